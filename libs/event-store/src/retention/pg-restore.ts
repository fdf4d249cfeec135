import { type JWK } from 'jose';
import { type DataSource } from 'typeorm';
import { type EventStore, type RecordedEvent } from '../event-store.js';
import { inTransaction } from '../transaction.js';
import { readManifests, readVerifiedArchive } from './archive-files.js';
import { RETENTION_STREAM, withRetentionLock } from './pg-retention.js';
import { type StreamRestored } from './retention-events.js';

export interface RestoreOptions {
  archiveDir: string;
  /** Public (or private) Ed25519 JWKs a manifest may be signed with. */
  verifyKeys: readonly JWK[];
}

export interface RestoreReport {
  streamId: string;
  archives: string[];
  events: number;
  positions: number[];
}

/**
 * Puts an archived stream's events back at their original positions, with their original hashes,
 * after checking every archive holding them (signature, checksum, hashes); recorded as
 * `StreamRestored`. Refused when any of those events is still (or again) in the log.
 */
export async function restoreStream(
  dataSource: DataSource,
  store: EventStore,
  streamId: string,
  options: RestoreOptions,
): Promise<RestoreReport> {
  return withRetentionLock(dataSource, () => restore(dataSource, store, streamId, options));
}

async function restore(
  dataSource: DataSource,
  store: EventStore,
  streamId: string,
  options: RestoreOptions,
): Promise<RestoreReport> {
  const manifests = (await readManifests(options.archiveDir, options.verifyKeys)).filter((m) =>
    m.streams.some((s) => s.streamId === streamId),
  );
  if (manifests.length === 0) throw new Error(`no archive in ${options.archiveDir} holds stream ${streamId}`);
  const events: RecordedEvent[] = [];
  for (const manifest of manifests) {
    for (const e of await readVerifiedArchive(options.archiveDir, manifest)) {
      if (e.streamId === streamId && !events.some((x) => x.globalPosition === e.globalPosition))
        events.push(e);
    }
  }
  events.sort((a, b) => a.globalPosition - b.globalPosition);
  const positions = events.map((e) => e.globalPosition);
  await inTransaction(dataSource, async (qr) => {
    const live = (await qr.query(
      `SELECT global_position FROM events WHERE global_position = ANY($1::bigint[]) OR event_id = ANY($2::uuid[])`,
      [positions, events.map((e) => e.eventId)],
    )) as unknown[];
    if (live.length > 0)
      throw new Error(`stream ${streamId}: ${live.length} of its archived events are in the log`);
    await qr.query(
      `INSERT INTO events (global_position, event_id, stream_id, stream_version, type, schema_version, data,
         metadata, recorded_at, prev_hash, hash)
       SELECT e.p, e.id, e.s, e.v, e.t, e.sv, e.d, e.m, e.r, decode(e.ph, 'hex'), decode(e.h, 'hex')
       FROM unnest($1::bigint[], $2::uuid[], $3::text[], $4::int[], $5::text[], $6::int[], $7::jsonb[],
         $8::jsonb[], $9::timestamptz[], $10::text[], $11::text[]) AS e(p, id, s, v, t, sv, d, m, r, ph, h)`,
      [
        positions,
        events.map((e) => e.eventId),
        events.map((e) => e.streamId),
        events.map((e) => e.streamVersion),
        events.map((e) => e.type),
        events.map((e) => e.schemaVersion),
        events.map((e) => JSON.stringify(e.data)),
        events.map((e) => JSON.stringify(e.metadata)),
        events.map((e) => e.recordedAt.toISOString()),
        events.map((e) => e.prevHash ?? null),
        events.map((e) => e.hash ?? null),
      ],
    );
  });
  const archives = manifests.map((m) => m.archiveId);
  const event: StreamRestored = {
    type: 'StreamRestored',
    data: {
      streamId,
      archives,
      events: events.length,
      firstPosition: positions[0] ?? 0,
      lastPosition: positions.at(-1) ?? 0,
    },
  };
  await store.appendToStream(RETENTION_STREAM, 'any', [
    { ...event, metadata: { actor: 'system:retention' } },
  ]);
  return { streamId, archives, events: events.length, positions };
}
