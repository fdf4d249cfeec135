import {
  createLocalJWKSet,
  type JSONWebKeySet,
  type JWSHeaderParameters,
  type FlattenedJWSInput,
} from 'jose';
import { errors } from 'jose';

export interface JwksCacheOptions {
  jwksUri: () => Promise<string>;
  fetch: typeof fetch;
  now: () => number;
  minAgeSeconds: number;
  maxAgeSeconds: number;
}

type KeyResolver = ReturnType<typeof createLocalJWKSet>;

/**
 * The authorization server's JWKS, fetched once and kept for its Cache-Control max-age (bounded).
 * A token whose `kid` is not in the cached set triggers at most one refetch (a key rotation:
 * RFC 7517, checklist decision 14), and no more than one per `minAgeSeconds`, so a flood of
 * forged kids cannot make this resource server hammer the JWKS endpoint.
 */
export class JwksCache {
  private keys: KeyResolver | undefined;
  private fetchedAt = -Infinity;
  private expiresAt = -Infinity;
  private inflight: Promise<void> | undefined;
  /** Number of JWKS fetches made (observable for tests and metrics). */
  fetches = 0;

  constructor(private readonly options: JwksCacheOptions) {}

  /** A key resolver for jose's jwtVerify. */
  readonly resolve = async (header: JWSHeaderParameters, token: FlattenedJWSInput) => {
    const now = this.options.now();
    if (!this.keys || now >= this.expiresAt) await this.refresh();
    try {
      return await this.keys!(header, token);
    } catch (err) {
      const unknownKey = err instanceof errors.JWKSNoMatchingKey;
      const mayRefetch = now - this.fetchedAt >= this.options.minAgeSeconds * 1000;
      if (!unknownKey || !mayRefetch) throw err;
      await this.refresh();
      return this.keys!(header, token);
    }
  };

  private refresh(): Promise<void> {
    this.inflight ??= this.load().finally(() => (this.inflight = undefined));
    return this.inflight;
  }

  private async load(): Promise<void> {
    this.fetches++;
    const res = await this.options.fetch(await this.options.jwksUri(), {
      headers: { accept: 'application/json' },
    });
    if (res.status !== 200) throw new Error(`JWKS answered ${res.status}`);
    const jwks = (await res.json()) as JSONWebKeySet;
    if (!jwks || !Array.isArray(jwks.keys)) throw new Error('JWKS is not a JWK Set');
    const maxAge = /max-age=(\d+)/.exec(res.headers.get('cache-control') ?? '');
    const age = Math.min(
      Math.max(maxAge ? Number(maxAge[1]) : this.options.maxAgeSeconds, this.options.minAgeSeconds),
      this.options.maxAgeSeconds,
    );
    const now = this.options.now();
    this.keys = createLocalJWKSet(jwks);
    this.fetchedAt = now;
    this.expiresAt = now + age * 1000;
  }
}
