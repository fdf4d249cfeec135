import { createHash } from 'node:crypto';
import { type EventStore, type RecordedEvent } from './event-store.js';

/** The `prev_hash` of the first hashed event: 32 zero bytes, hex. */
export const GENESIS_HASH = '0'.repeat(64);

/** The fields the chain covers, as stored (`hash`/`prevHash` null on events recorded before the chain). */
export interface ChainedEvent extends RecordedEvent {
  prevHash: string | null;
  hash: string | null;
}

/** Object keys as JSON strings: event payloads repeat a small set of keys. */
const quotedKeys = new Map<string, string>();
const QUOTED_KEYS_HELD = 1024;

function quotedKey(key: string): string {
  let quoted = quotedKeys.get(key);
  if (quoted === undefined) {
    quoted = JSON.stringify(key);
    if (quotedKeys.size >= QUOTED_KEYS_HELD) quotedKeys.clear();
    quotedKeys.set(key, quoted);
  }
  return quoted;
}

/**
 * JSON with object keys sorted (by UTF-16 code units) at every depth and no whitespace: the same text
 * for a value before it is stored as jsonb and after it is read back, whatever order jsonb keeps.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) {
    let text = '[';
    for (let i = 0; i < value.length; i++) text += (i === 0 ? '' : ',') + canonicalJson(value[i] ?? null);
    return `${text}]`;
  }
  const object = value as Record<string, unknown>;
  // Array.prototype.sort without a comparator orders strings by UTF-16 code units.
  const keys = Object.keys(object).sort();
  let text = '{';
  for (const key of keys) {
    const v = object[key];
    if (v === undefined) continue;
    text += (text.length === 1 ? '' : ',') + quotedKey(key) + ':' + canonicalJson(v);
  }
  return `${text}}`;
}

/**
 * hash = SHA-256(prev_hash bytes ‖ UTF-8 of the canonical JSON of global_position (a decimal
 * string), event_id, stream_id, stream_version, type, schema_version, data, metadata, recorded_at
 * (ISO 8601, milliseconds)), hex. Every event hashes over its predecessor in global order.
 */
export function eventHash(prevHash: string, event: Omit<RecordedEvent, 'hash' | 'prevHash'>): string {
  const body = canonicalJson({
    globalPosition: String(event.globalPosition),
    eventId: event.eventId,
    streamId: event.streamId,
    streamVersion: event.streamVersion,
    type: event.type,
    schemaVersion: event.schemaVersion,
    data: event.data,
    metadata: event.metadata,
    recordedAt: event.recordedAt.toISOString(),
  });
  return createHash('sha256').update(Buffer.from(prevHash, 'hex')).update(body, 'utf8').digest('hex');
}

export type ChainBreakKind = 'altered' | 'inserted' | 'removed';

export interface ChainBreak {
  kind: ChainBreakKind;
  /** The event named: the altered or the (first) inserted one, or the one right after a removal. */
  position: number;
  eventId: string;
  message: string;
}

export interface ChainReport {
  ok: boolean;
  /** Hashed events checked (up to the break, if any). */
  checked: number;
  /** Events before the first hashed one (recorded before the chain existed): not covered. */
  unhashed: number;
  /** Last event that checked out. */
  head: { position: number; hash: string } | null;
  break: ChainBreak | null;
  /** Events absent from the log whose links archive manifests supplied (retention). */
  archived?: number;
}

/** A link of an archived event, from a verified archive manifest (retention/archive-format.ts). */
export interface ArchivedChainLink {
  position: number;
  hash: string;
}

export interface ChainVerifierOptions {
  /**
   * Archived events' links keyed by their prev_hash: a run of missing events is accepted exactly when
   * these links lead from the last good event to the next one's prev_hash, in position order.
   */
  archived?: ReadonlyMap<string, ArchivedChainLink>;
}

/** Hashes remembered to tell an insertion (a later event links back past it) from a removal. */
const REMEMBERED = 100_000;

/**
 * Checks the chain event by event in global order (positions may have gaps: a rolled-back sequence
 * value is never used, so a removal is found through the chain, never through positions). The first
 * break is kept; pushing after it changes nothing.
 */
export class ChainVerifier {
  private tip: string | null = null;
  private readonly accepted = new Map<string, { position: number; eventId: string }>();
  private readonly order: string[] = [];
  private readonly next = new Map<string, { position: number; eventId: string }>();
  private report: ChainReport = { ok: true, checked: 0, unhashed: 0, head: null, break: null };

  constructor(private readonly options: ChainVerifierOptions = {}) {}

  push(event: ChainedEvent): ChainBreak | null {
    if (this.report.break) return this.report.break;
    const at = { position: event.globalPosition, eventId: event.eventId };
    if (event.hash === null) {
      if (this.tip === null && event.prevHash === null) {
        this.report.unhashed++;
        return null;
      }
      return this.fail('inserted', at, 'carries no hash after the chain started');
    }
    const expectedPrev = this.tip ?? GENESIS_HASH;
    if (event.prevHash === null || eventHash(event.prevHash, event) !== event.hash) {
      return event.prevHash === expectedPrev
        ? this.fail('altered', at, 'its content no longer matches its hash')
        : this.fail('inserted', at, 'its hash does not continue the chain');
    }
    if (event.prevHash !== expectedPrev && !this.bridged(expectedPrev, event)) {
      const linked = this.accepted.get(event.prevHash);
      if (linked) {
        const first = this.next.get(event.prevHash)!;
        return this.fail(
          'inserted',
          first,
          `inserted after position ${linked.position}: position ${at.position} links back to ${linked.position}`,
        );
      }
      const after = this.report.head ? `after position ${this.report.head.position} ` : 'at the start ';
      return this.fail('removed', at, `event(s) removed ${after}before position ${at.position}`);
    }
    if (this.tip !== null) this.next.set(this.tip, at);
    this.tip = event.hash;
    this.accepted.set(event.hash, at);
    this.order.push(event.hash);
    if (this.order.length > REMEMBERED) {
      const old = this.order.shift()!;
      this.accepted.delete(old);
      this.next.delete(old);
    }
    this.report.checked++;
    this.report.head = { position: at.position, hash: event.hash };
    return null;
  }

  /** Whether archived links lead from `from` to the event's prev_hash over positions between the two. */
  private bridged(from: string, event: ChainedEvent): boolean {
    const links = this.options.archived;
    if (!links || links.size === 0) return false;
    let at = from;
    let position = this.report.head?.position ?? 0;
    let count = 0;
    for (let link = links.get(at); link; link = links.get(at)) {
      if (link.position <= position || link.position >= event.globalPosition) return false;
      position = link.position;
      at = link.hash;
      count++;
      if (at === event.prevHash) {
        this.report.archived = (this.report.archived ?? 0) + count;
        return true;
      }
    }
    return false;
  }

  result(): ChainReport {
    return { ...this.report };
  }

  private fail(kind: ChainBreakKind, at: { position: number; eventId: string }, why: string): ChainBreak {
    const message =
      kind === 'inserted' && why.startsWith('inserted after')
        ? `event at position ${at.position} (${at.eventId}) was inserted: ${why}`
        : kind === 'removed'
          ? why
          : `event at position ${at.position} (${at.eventId}) was ${kind}: ${why}`;
    const found: ChainBreak = { kind, position: at.position, eventId: at.eventId, message };
    this.report = { ...this.report, ok: false, break: found };
    return found;
  }
}

/** Verifies a whole log given in global order (pure). */
export function verifyChain(events: Iterable<ChainedEvent>, options?: ChainVerifierOptions): ChainReport {
  const verifier = new ChainVerifier(options);
  for (const event of events) if (verifier.push(event)) break;
  return verifier.result();
}

/**
 * Verifies the chain of a whole store, reading it in pages of `pageSize` in global order. With an
 * `observer` (checkpoints), every event is read and shown to it, past a break too.
 */
export async function verifyStoredChain(
  store: Pick<EventStore, 'readAll'>,
  pageSize = 1000,
  observer?: { push(event: ChainedEvent): void },
  options?: ChainVerifierOptions,
): Promise<ChainReport> {
  const verifier = new ChainVerifier(options);
  let after = 0;
  for (;;) {
    const page = await store.readAll(after, pageSize);
    for (const recorded of page) {
      const event = { ...recorded, prevHash: recorded.prevHash ?? null, hash: recorded.hash ?? null };
      observer?.push(event);
      if (verifier.push(event) && !observer) return verifier.result();
    }
    if (page.length < pageSize) return verifier.result();
    after = page[page.length - 1]!.globalPosition;
  }
}
