import type { EventStore } from '#lib/event-store';
import { createLocalJWKSet, type JWTVerifyGetKey } from 'jose';
import { type AccessTokenClaims, AccessTokenInvalid, verifyAccessToken } from './access-token.js';
import { jwksDocument } from './jwks.js';
import { evolve, initialState, publishedKeys, SIGNING_ALGS, SIGNING_KEYRING_STREAM } from './keyring.js';

/**
 * Verifies this server's own access tokens from the keyring in the event store. Reloads:
 * - once on an unknown kid (read-your-writes: a key published a moment ago; at most once per
 *   `minReloadIntervalMs`, so forged kids cannot hammer the store);
 * - when its copy is older than `maxAgeMs` (a key retired or withdrawn by another process);
 * - when a retired key's `publishUntil` has come (decision 14: it then stops verifying).
 */
export class KeyringVerifier {
  private keys: JWTVerifyGetKey | null = null;
  private kids = new Set<string>();
  private lastLoad = 0;
  private nextExpiry = Infinity;

  constructor(
    private readonly store: EventStore,
    private readonly issuer: string,
    private readonly minReloadIntervalMs = 1000,
    private readonly maxAgeMs = 30_000,
    private readonly clock: () => number = Date.now,
  ) {}

  private async load(): Promise<void> {
    const state = (await this.store.readStream(SIGNING_KEYRING_STREAM)).reduce(evolve, initialState());
    const now = this.clock();
    const published = publishedKeys(state, new Date(now));
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
    return verifyAccessToken(token, {
      issuer: this.issuer,
      keys: this.keys!,
      algorithms: SIGNING_ALGS,
      clockToleranceSeconds: 0,
      now: new Date(now),
    });
  }
}

function headerKid(token: string): string | undefined {
  const dot = token.indexOf('.');
  if (dot <= 0 || token.length > 8192) throw new AccessTokenInvalid('malformed');
  try {
    const header = JSON.parse(Buffer.from(token.slice(0, dot), 'base64url').toString('utf8')) as {
      kid?: unknown;
    };
    return typeof header.kid === 'string' ? header.kid : undefined;
  } catch {
    throw new AccessTokenInvalid('malformed');
  }
}
