import { createLocalJWKSet, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';

/**
 * The issuer's JWKS as a key resolver, fetched through `load` (the token service answers it over
 * NATS) and kept for `maxAgeMs`; a token naming a kid the set does not hold reloads it, at most once
 * per `minReloadMs` (RFC 7517 §4.5: keys are told apart by kid), so that unknown kids cannot make
 * every request a fetch.
 */
export class JwksSource {
  private resolver: JWTVerifyGetKey | null = null;
  private kids = new Set<string>();
  private loadedAt = -Infinity;

  constructor(
    private readonly load: () => Promise<JSONWebKeySet>,
    private readonly options: { maxAgeMs: number; minReloadMs: number; now?: () => number } = {
      maxAgeMs: 60_000,
      minReloadMs: 1_000,
    },
  ) {}

  async keys(kid: string | undefined): Promise<JWTVerifyGetKey> {
    const now = this.options.now?.() ?? Date.now();
    const age = now - this.loadedAt;
    const unknownKid = kid !== undefined && !this.kids.has(kid);
    if (
      this.resolver === null ||
      age > this.options.maxAgeMs ||
      (unknownKid && age > this.options.minReloadMs)
    ) {
      const jwks = await this.load();
      this.resolver = createLocalJWKSet(jwks);
      this.kids = new Set(jwks.keys.map((k) => k.kid).filter((k): k is string => typeof k === 'string'));
      this.loadedAt = now;
    }
    return this.resolver;
  }
}
