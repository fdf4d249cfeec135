import { createHash } from 'node:crypto';
import type { EventStore } from '#lib/event-store';
import { createLocalJWKSet, decodeProtectedHeader, type JWTVerifyGetKey } from 'jose';
import { type AccessTokenClaims, AccessTokenInvalid, verifyAccessToken } from './access-token.js';
import { jwksDocument } from './jwks.js';
import { evolveKeyring, initialKeyringState, publishedKeys } from './keyring-state.js';
import { SIGNING_ALGS, SIGNING_KEYRING_STREAM } from './keyring-events.js';

/**
 * Verifies this server's own access tokens from the keyring in the event store. Reloads:
 * - once on an unknown kid (read-your-writes: a key published a moment ago; at most once per
 *   `minReloadIntervalMs`, so forged kids cannot hammer the store);
 * - when its copy is older than `maxAgeMs` (a key retired or withdrawn by another process);
 * - when a retired key's `publishUntil` has come (it then stops verifying).
 *
 * A token verified once is remembered (by its SHA-256, never in clear; at most `memoSize`): the
 * same bytes give the same signature, header and claims checks, so a repeat skips them and checks
 * only what can change since: its kid is still published (RFC 7517 §5: a key withdrawn or past
 * its publishUntil stops verifying at once) and `exp` (RFC 7519 §4.1.4).
 */
export class KeyringVerifier {
  private keys: JWTVerifyGetKey | null = null;
  private readonly memo = new Map<string, { kid: string; claims: AccessTokenClaims }>();
  private memoHits = 0;
  private kids = new Set<string>();
  private lastLoad = 0;
  private nextExpiry = Infinity;

  constructor(
    private readonly store: EventStore,
    private readonly issuer: string,
    private readonly minReloadIntervalMs = 1000,
    private readonly maxAgeMs = 30_000,
    private readonly clock: () => number = Date.now,
    private readonly memoSize = 10_000,
  ) {}

  /** Verifications answered from the memo (for tests and metrics). */
  get memoizedVerifications(): number {
    return this.memoHits;
  }

  private async load(): Promise<void> {
    const state = (await this.store.readStream(SIGNING_KEYRING_STREAM)).reduce(
      evolveKeyring,
      initialKeyringState(),
    );
    const now = this.clock();
    // Access tokens only: an ID-token key never verifies an access token.
    const published = publishedKeys(state, new Date(now)).filter((k) => k.purpose === 'access_token');
    const doc = jwksDocument(published);
    this.keys = createLocalJWKSet(doc);
    this.kids = new Set(doc.keys.map((k) => k.kid).filter((k): k is string => typeof k === 'string'));
    this.nextExpiry = Math.min(
      Infinity,
      ...published.map((k) => (k.status === 'retired' ? k.publishUntil.getTime() : Infinity)),
    );
    this.lastLoad = now;
  }

  /** Returns the verified claims, or throws AccessTokenInvalid. */
  async verify(token: string): Promise<AccessTokenClaims> {
    const kid = headerKid(token);
    const now = this.clock();
    if (
      this.keys === null ||
      now >= this.nextExpiry ||
      now - this.lastLoad > this.maxAgeMs ||
      (kid !== undefined && !this.kids.has(kid) && now - this.lastLoad > this.minReloadIntervalMs)
    ) {
      await this.load();
    }
    const digest = createHash('sha256').update(token).digest('base64url');
    const known = this.memo.get(digest);
    if (known !== undefined && this.kids.has(known.kid)) {
      // RFC 7519 §4.1.4, as jose checks it with no clock tolerance: expired once now >= exp.
      if (known.claims.exp <= Math.floor(now / 1000)) throw new AccessTokenInvalid('expired', 'exp');
      this.memoHits++;
      return { ...known.claims };
    }
    this.memo.delete(digest);
    const claims = await verifyAccessToken(token, {
      issuer: this.issuer,
      keys: this.keys!,
      algorithms: SIGNING_ALGS,
      clockToleranceSeconds: 0,
      now: new Date(now),
    });
    if (kid !== undefined && this.memoSize > 0) {
      if (this.memo.size >= this.memoSize) this.memo.delete(this.memo.keys().next().value!);
      this.memo.set(digest, { kid, claims: { ...claims } });
    }
    return claims;
  }
}

function headerKid(token: string): string | undefined {
  if (token.length > 8192) throw new AccessTokenInvalid('malformed');
  let kid: unknown;
  try {
    ({ kid } = decodeProtectedHeader(token));
  } catch {
    throw new AccessTokenInvalid('malformed');
  }
  return typeof kid === 'string' ? kid : undefined;
}
