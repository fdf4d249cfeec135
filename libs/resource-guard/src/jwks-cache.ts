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
  /** Longest wait for one JWKS response, body included (ms). */
  timeoutMs: number;
}

type KeyResolver = ReturnType<typeof createLocalJWKSet>;

/** The JWKS could not be fetched (now, or recently: see the back-off); the token cannot be judged. */
export class JwksUnavailable extends Error {
  constructor(
    message: string,
    /** When the next fetch may be tried (the clock of the options' `now`). */
    readonly retryAt: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'JwksUnavailable';
  }
}

/** First wait after a failed fetch; it doubles with each failure in a row, up to `minAgeSeconds`. */
const FIRST_BACKOFF_MS = 1000;

/**
 * The authorization server's JWKS, fetched once and kept for its Cache-Control max-age (bounded).
 * - A token whose `kid` is not in the cached set triggers at most one refetch (a key rotation:
 *   RFC 7517, OpenID Connect Core §10.1.1), and no more than one per `minAgeSeconds` since the last
 *   attempt, so a flood of forged kids cannot make this resource server hammer the JWKS endpoint.
 * - Each fetch (and the metadata lookup behind `jwksUri`) gives up after `timeoutMs`: a hung
 *   authorization server costs a request that long at most, and concurrent requests share one fetch.
 * - A failed fetch is remembered: until the back-off has passed (1 s, doubling with each failure in
 *   a row, at most `minAgeSeconds`), a request that needs the keys fails at once, without a fetch.
 *   Expired keys are not used meanwhile (fail closed, as jose's remote key set does): a key the
 *   server withdrew must stop working when its max-age ends.
 *
 * Written here rather than with jose's createRemoteJWKSet, which fits the first two points but
 * refetches on every request while the server fails, ignores Cache-Control, and reads Date.now()
 * rather than an injected clock.
 */
export class JwksCache {
  private keys: KeyResolver | undefined;
  private expiresAt = -Infinity;
  private attemptedAt = -Infinity;
  private failures = 0;
  private failure: JwksUnavailable | undefined;
  private inflight: Promise<void> | undefined;
  /** Number of JWKS fetches attempted (observable for tests and metrics). */
  fetches = 0;

  constructor(private readonly options: JwksCacheOptions) {}

  /** A key resolver for jose's jwtVerify. */
  readonly resolve = async (header: JWSHeaderParameters, token: FlattenedJWSInput) => {
    const now = this.options.now();
    if (!this.keys || now >= this.expiresAt) await this.refresh(now);
    try {
      return await this.keys!(header, token);
    } catch (err) {
      const unknownKey = err instanceof errors.JWKSNoMatchingKey;
      const mayRefetch = now - this.attemptedAt >= this.options.minAgeSeconds * 1000 && !this.backingOff(now);
      if (!unknownKey || !mayRefetch) throw err;
      await this.refresh(now);
      return this.keys!(header, token);
    }
  };

  private backingOff(now: number): boolean {
    return this.failure !== undefined && now < this.failure.retryAt;
  }

  private refresh(now: number): Promise<void> {
    if (this.inflight) return this.inflight;
    if (this.backingOff(now)) return Promise.reject(this.failure!);
    this.attemptedAt = now;
    this.inflight = this.load()
      .then(
        () => {
          this.failures = 0;
          this.failure = undefined;
        },
        (err: unknown) => {
          this.failures++;
          const backoff = Math.min(
            FIRST_BACKOFF_MS * 2 ** (this.failures - 1),
            this.options.minAgeSeconds * 1000,
          );
          const retryAt = this.options.now() + backoff;
          this.failure = new JwksUnavailable(
            `the JWKS could not be fetched (${describe(err)}); next attempt in ${backoff} ms`,
            retryAt,
            { cause: err },
          );
          throw this.failure;
        },
      )
      .finally(() => (this.inflight = undefined));
    return this.inflight;
  }

  private async load(): Promise<void> {
    this.fetches++;
    const signal = AbortSignal.timeout(this.options.timeoutMs);
    const res = await this.options.fetch(await this.options.jwksUri(), {
      headers: { accept: 'application/json' },
      signal,
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
    this.expiresAt = now + age * 1000;
  }
}

function describe(err: unknown): string {
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) return 'timed out';
  return err instanceof Error ? err.message : String(err);
}
