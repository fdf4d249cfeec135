import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { CompactSign, compactVerify, importJWK, type JWK } from 'jose';
import { type RecordedEvent } from '../event-store.js';
import { canonicalJson, eventHash, type ChainedEvent } from '../hash-chain.js';

/**
 * An archive (docs/retention.md "Archive files"): `<id>.jsonl.gz`, the archived events as JSON Lines
 * (one event per line, every column of `events`, in global order), gzip-compressed (RFC 1952), and
 * `<id>.manifest.json` beside it, whose `jws` is a compact JWS (RFC 7515 §7.1) signed with Ed25519
 * (RFC 8037 §3.1). Format 2 signs the canonical JSON of the manifest without its two listings
 * (`events`, `streams`), which `eventsSha256` and `streamsSha256` bind instead; format 1 (still
 * read) signed the whole manifest.
 */

export const ARCHIVE_FORMAT = 2;

export interface ArchivedLink {
  position: number;
  prevHash: string | null;
  hash: string | null;
}

export interface ArchivedStream {
  streamId: string;
  firstPosition: number;
  lastPosition: number;
  count: number;
}

export interface ArchiveManifest {
  format: number;
  archiveId: string;
  createdAt: string;
  file: string;
  /** SHA-256 (hex) of the compressed file as written. */
  sha256: string;
  eventCount: number;
  firstPosition: number;
  lastPosition: number;
  streams: ArchivedStream[];
  events: ArchivedLink[];
  /** SHA-256 (hex) of the canonical JSON of `events`, and of `streams`; format 2 on. */
  eventsSha256?: string;
  streamsSha256?: string;
}

export const archiveFileName = (archiveId: string) => `${archiveId}.jsonl.gz`;
export const manifestFileName = (archiveId: string) => `${archiveId}.manifest.json`;

/** One line of an archive file: the row as stored (positions as decimal strings, hashes hex). */
interface ArchiveLine {
  global_position: string;
  event_id: string;
  stream_id: string;
  stream_version: number;
  type: string;
  schema_version: number;
  data: unknown;
  metadata: unknown;
  recorded_at: string;
  prev_hash: string | null;
  hash: string | null;
}

export function encodeArchive(events: readonly RecordedEvent[]): Buffer {
  const lines = events.map((e) => {
    const line: ArchiveLine = {
      global_position: String(e.globalPosition),
      event_id: e.eventId,
      stream_id: e.streamId,
      stream_version: e.streamVersion,
      type: e.type,
      schema_version: e.schemaVersion,
      data: e.data,
      metadata: e.metadata,
      recorded_at: e.recordedAt.toISOString(),
      prev_hash: e.prevHash ?? null,
      hash: e.hash ?? null,
    };
    return JSON.stringify(line);
  });
  return gzipSync(Buffer.from(lines.join('\n') + '\n', 'utf8'));
}

export function decodeArchive(file: Buffer): ChainedEvent[] {
  const text = gunzipSync(file).toString('utf8');
  return text
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => {
      const line = JSON.parse(l) as ArchiveLine;
      return {
        globalPosition: Number(line.global_position),
        eventId: line.event_id,
        streamId: line.stream_id,
        streamVersion: line.stream_version,
        type: line.type,
        schemaVersion: line.schema_version,
        data: line.data,
        metadata: (line.metadata ?? {}) as RecordedEvent['metadata'],
        recordedAt: new Date(line.recorded_at),
        prevHash: line.prev_hash,
        hash: line.hash,
      };
    });
}

export const sha256Hex = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/**
 * SHA-256 (hex) of canonicalJson(links), fed a link at a time: the listing of a large archive is
 * never held as one string.
 */
export function linksSha256(links: readonly unknown[]): string {
  const hash = createHash('sha256').update('[');
  for (let i = 0; i < links.length; i++) hash.update((i === 0 ? '' : ',') + canonicalJson(links[i] ?? null));
  return hash.update(']').digest('hex');
}

/** What a format-2 JWS signs: the manifest without its listings, which their digests bind. */
function signedPart(manifest: ArchiveManifest): Omit<ArchiveManifest, 'events' | 'streams'> {
  const { events: _links, streams: _streams, ...rest } = manifest;
  return rest;
}

export function buildManifest(
  archiveId: string,
  createdAt: Date,
  events: readonly RecordedEvent[],
  file: Buffer,
): ArchiveManifest {
  const streams = new Map<string, ArchivedStream>();
  for (const e of events) {
    const s = streams.get(e.streamId);
    if (s) {
      s.lastPosition = e.globalPosition;
      s.count++;
    } else {
      streams.set(e.streamId, {
        streamId: e.streamId,
        firstPosition: e.globalPosition,
        lastPosition: e.globalPosition,
        count: 1,
      });
    }
  }
  const links = events.map((e) => ({
    position: e.globalPosition,
    prevHash: e.prevHash ?? null,
    hash: e.hash ?? null,
  }));
  const listed = [...streams.values()];
  return {
    format: ARCHIVE_FORMAT,
    archiveId,
    createdAt: createdAt.toISOString(),
    file: archiveFileName(archiveId),
    sha256: sha256Hex(file),
    eventCount: events.length,
    firstPosition: events[0]?.globalPosition ?? 0,
    lastPosition: events[events.length - 1]?.globalPosition ?? 0,
    streams: listed,
    events: links,
    eventsSha256: linksSha256(links),
    streamsSha256: linksSha256(listed),
  };
}

/** The manifest file: the manifest to read, and the JWS that is trusted. */
export interface SignedManifestFile {
  manifest: ArchiveManifest;
  jws: string;
}

export class ArchiveError extends Error {
  override name = 'ArchiveError';
  constructor(
    readonly archiveId: string,
    message: string,
    readonly position?: number,
  ) {
    super(`archive ${archiveId}: ${message}`);
  }
}

/** The public half of an Ed25519 private JWK (RFC 8037 §2: `d` is the private key). */
export function publicJwk(jwk: JWK): JWK {
  const { d: _d, ...pub } = jwk;
  return { kty: pub.kty, crv: pub.crv, x: pub.x, ...(pub.kid ? { kid: pub.kid } : {}) };
}

/** Signs a manifest in the current format (its `eventsSha256` as `buildManifest` computed it). */
export async function signManifest(manifest: ArchiveManifest, privateJwk: JWK): Promise<SignedManifestFile> {
  if (privateJwk.kty !== 'OKP' || privateJwk.crv !== 'Ed25519' || !privateJwk.d) {
    throw new Error('the retention signing key must be a private Ed25519 JWK (kty OKP, crv Ed25519, d)');
  }
  if (
    manifest.format !== ARCHIVE_FORMAT ||
    typeof manifest.eventsSha256 !== 'string' ||
    typeof manifest.streamsSha256 !== 'string'
  ) {
    throw new Error(`only a format ${ARCHIVE_FORMAT} manifest with the digests of its listings is signed`);
  }
  const key = await importJWK(privateJwk, 'EdDSA');
  const jws = await new CompactSign(new TextEncoder().encode(canonicalJson(signedPart(manifest))))
    .setProtectedHeader({
      alg: 'EdDSA',
      typ: 'retention-manifest+jws',
      ...(privateJwk.kid ? { kid: privateJwk.kid } : {}),
    })
    .sign(key);
  return { manifest, jws };
}

/**
 * The readable manifest of a file, once its JWS checks out under one of `trusted` (public JWKs) and
 * the readable copy is the signed one: for format 2, the same manifest without its listings, and
 * listings whose digests are the signed `eventsSha256` and `streamsSha256`; for format 1, the same
 * whole manifest.
 */
export async function verifyManifest(
  file: SignedManifestFile,
  trusted: readonly JWK[],
): Promise<ArchiveManifest> {
  const claimed = file.manifest?.archiveId ?? 'unknown';
  if (typeof file.jws !== 'string') throw new ArchiveError(claimed, 'manifest carries no signature');
  for (const jwk of trusted) {
    let payload: Uint8Array;
    try {
      const key = await importJWK(publicJwk(jwk), 'EdDSA');
      ({ payload } = await compactVerify(file.jws, key, { algorithms: ['EdDSA'] }));
    } catch {
      continue;
    }
    const signed = new TextDecoder().decode(payload);
    const differs = () => new ArchiveError(claimed, 'the readable manifest differs from the signed one');
    let parsed: Partial<ArchiveManifest> | null;
    try {
      parsed = JSON.parse(signed) as Partial<ArchiveManifest> | null;
    } catch {
      throw new ArchiveError(claimed, 'the signed manifest is not JSON');
    }
    const format = parsed?.format;
    if (format === 1) {
      if (canonicalJson(file.manifest) !== signed) throw differs();
      return parsed as ArchiveManifest;
    }
    if (format !== 2) throw new ArchiveError(claimed, `manifest format ${String(format)} is not known`);
    const readable = file.manifest;
    if (
      typeof readable !== 'object' ||
      readable === null ||
      !Array.isArray(readable.events) ||
      !Array.isArray(readable.streams) ||
      canonicalJson(signedPart(readable)) !== signed ||
      linksSha256(readable.events) !== parsed?.eventsSha256 ||
      linksSha256(readable.streams) !== parsed?.streamsSha256
    ) {
      throw differs();
    }
    return readable;
  }
  throw new ArchiveError(claimed, 'manifest signature does not verify under the retention key');
}

/** Whether the event's content still gives its hash; a malformed line does not. */
function hashHolds(e: ChainedEvent): boolean {
  if (e.hash === null) return e.prevHash === null;
  try {
    return e.prevHash !== null && eventHash(e.prevHash, e) === e.hash;
  } catch {
    return false;
  }
}

function decodeOrFail(manifest: ArchiveManifest, file: Buffer): ChainedEvent[] {
  try {
    return decodeArchive(file);
  } catch {
    throw new ArchiveError(manifest.archiveId, 'file is unreadable (not gzip-compressed JSON Lines)');
  }
}

/**
 * Checks an archive file against its (verified) manifest: its SHA-256, and every event's hash
 * recomputed from its content (hash-chain.ts), in the manifest's order with the manifest's links.
 */
export function verifyArchiveContent(manifest: ArchiveManifest, file: Buffer): ChainedEvent[] {
  const events = decodeOrFail(manifest, file);
  const listed = (e: ChainedEvent, i: number) => {
    const link = manifest.events[i];
    return (
      link !== undefined &&
      link.position === e.globalPosition &&
      link.prevHash === e.prevHash &&
      link.hash === e.hash
    );
  };
  const bad = events.findIndex((e, i) => !listed(e, i) || !hashHolds(e));
  if (bad >= 0) {
    const read = events[bad]!.globalPosition;
    const at = Number.isSafeInteger(read) ? read : (manifest.events[bad]?.position ?? 0);
    const why = listed(events[bad]!, bad)
      ? 'its content no longer matches its hash'
      : 'it differs from the manifest';
    throw new ArchiveError(manifest.archiveId, `event at position ${at} was altered: ${why}`, at);
  }
  if (events.length !== manifest.events.length) {
    throw new ArchiveError(
      manifest.archiveId,
      `holds ${events.length} events, its manifest lists ${manifest.events.length}`,
    );
  }
  if (sha256Hex(file) !== manifest.sha256) {
    throw new ArchiveError(manifest.archiveId, 'file checksum differs from the manifest');
  }
  return events;
}
