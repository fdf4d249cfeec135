import type { GrantState } from '#lib/domain-grant';

export interface CachedGrant {
  state: GrantState;
  /** The grant stream's version this state was folded up to. */
  version: number;
  /** The version of the grant's snapshot in the store (0: none), to know when to keep a new one. */
  snapshotVersion: number;
}

export const DEFAULT_GRANT_STATE_CACHE_CAPACITY = 5000;

/**
 * Grant streams as the token service last read or wrote them, least recently used dropped first, so
 * that a refresh-token rotation need not re-read its whole grant stream (a family's stream grows by
 * one event per rotation). An entry is a guess the store confirms, never trusted alone
 * (ARCHITECTURE.md: security-relevant reads are never stale):
 * - an issue decided on it appends with the cached version as the grant stream's expected version,
 *   so a grant revoked or rotated elsewhere since (a revocation, another replica) conflicts and is
 *   re-read from the store;
 * - a refusal is answered from it only once the stream's version shows it current; otherwise the
 *   grant is re-read and decided again first.
 */
export class GrantStateCache {
  private readonly entries = new Map<string, CachedGrant>();
  private readonly capacity: number;

  constructor(capacity: number = DEFAULT_GRANT_STATE_CACHE_CAPACITY) {
    this.capacity = Math.max(0, Math.floor(capacity));
  }

  get size(): number {
    return this.entries.size;
  }

  get(grantId: string): CachedGrant | undefined {
    const entry = this.entries.get(grantId);
    if (entry === undefined) return undefined;
    this.entries.delete(grantId);
    this.entries.set(grantId, entry);
    return entry;
  }

  set(grantId: string, entry: CachedGrant): void {
    if (this.capacity === 0) return;
    this.entries.delete(grantId);
    this.entries.set(grantId, entry);
    if (this.entries.size > this.capacity) {
      this.entries.delete(this.entries.keys().next().value!);
    }
  }

  forget(grantId: string): void {
    this.entries.delete(grantId);
  }
}
