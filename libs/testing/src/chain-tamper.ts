import { eventHash, GENESIS_HASH } from '#lib/event-store';

interface Sql {
  query(text: string, params?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
}

/**
 * What an administrator with a script does after editing rows of `events` (triggers disabled): every
 * hash-chain link computed again from the first event, so that `audit verify` alone passes. The
 * tamper signed checkpoints catch (docs/events.md "Checkpoints").
 */
export async function recomputeChain(sql: Sql): Promise<void> {
  const { rows } = await sql.query(
    `SELECT global_position, event_id, stream_id, stream_version, type, schema_version, data, metadata,
            recorded_at FROM events ORDER BY global_position`,
  );
  let prev = GENESIS_HASH;
  for (const r of rows) {
    const hash = eventHash(prev, {
      globalPosition: Number(r.global_position),
      eventId: String(r.event_id),
      streamId: String(r.stream_id),
      streamVersion: Number(r.stream_version),
      type: String(r.type),
      schemaVersion: Number(r.schema_version),
      data: r.data,
      metadata: r.metadata as Record<string, string>,
      recordedAt: new Date(r.recorded_at as Date),
    });
    await sql.query(
      `UPDATE events SET prev_hash = decode($2, 'hex'), hash = decode($3, 'hex') WHERE global_position = $1`,
      [r.global_position, prev, hash],
    );
    prev = hash;
  }
}
