import type { EventStore } from '#lib/event-store';
import { compactVerify, createLocalJWKSet, decodeProtectedHeader, type JWTVerifyGetKey } from 'jose';
import { jwksDocument } from './jwks.js';
import { evolveKeyring, initialKeyringState, publishedKeys } from './keyring-state.js';
import { SIGNING_ALGS, SIGNING_KEYRING_STREAM } from './keyring-events.js';

/** An `id_token_hint` that is not an ID token this issuer signed. */
export class IdTokenHintInvalid extends Error {
  constructor(readonly reason: string) {
    super(`id_token_hint ${reason}`);
    this.name = 'IdTokenHintInvalid';
  }
}

/** The claims of a verified hint that the end-session endpoint uses. */
export interface IdTokenHintClaims {
  sub: string;
  aud: string[];
  sid?: string;
}

const MAX_HINT_LENGTH = 8192;

/**
 * Verifies an `id_token_hint` (OpenID Connect RP-Initiated Logout 1.0 §2): a JWS signed by one of
 * this issuer's published ID-token keys (never an access-token key), `iss` this issuer, `sub` and
 * `aud` present. `exp` is not checked: §2 lets the OP accept a hint that has expired. Reads the
 * signing keyring stream as a read model (never appends); reloads on an unknown kid (at most once
 * per `minReloadIntervalMs`) and when its copy is older than `maxAgeMs`.
 */
export class IdTokenHintVerifier {
  private keys: JWTVerifyGetKey | null = null;
  private kids = new Set<string>();
  private lastLoad = 0;

  constructor(
    private readonly store: EventStore,
    private readonly issuer: string,
    private readonly clock: () => number = Date.now,
    private readonly minReloadIntervalMs = 1000,
    private readonly maxAgeMs = 30_000,
  ) {}

  private async load(now: number): Promise<void> {
    const state = (await this.store.readStream(SIGNING_KEYRING_STREAM)).reduce(
      evolveKeyring,
      initialKeyringState(),
    );
    const doc = jwksDocument(publishedKeys(state, new Date(now)).filter((k) => k.purpose === 'id_token'));
    this.keys = createLocalJWKSet(doc);
    this.kids = new Set(doc.keys.map((k) => k.kid).filter((k): k is string => typeof k === 'string'));
    this.lastLoad = now;
  }

  async verify(token: string): Promise<IdTokenHintClaims> {
    if (token.length === 0 || token.length > MAX_HINT_LENGTH) throw new IdTokenHintInvalid('malformed');
    const kid = headerKid(token);
    const now = this.clock();
    if (
      this.keys === null ||
      now - this.lastLoad > this.maxAgeMs ||
      (!this.kids.has(kid) && now - this.lastLoad > this.minReloadIntervalMs)
    )
      await this.load(now);
    let verified: Awaited<ReturnType<typeof compactVerify>>;
    try {
      verified = await compactVerify(token, this.keys!, { algorithms: [...SIGNING_ALGS] });
    } catch {
      throw new IdTokenHintInvalid('signature');
    }
    // Back-Channel Logout 1.0 §2.4, §4.1 (cross-JWT confusion): a logout token, signed by the same
    // keys, is typed logout+jwt and carries `events`; it must never pass for an ID token.
    if (verified.protectedHeader.typ !== 'JWT') throw new IdTokenHintInvalid('typ');
    return this.claimsOf(verified.payload);
  }

  private claimsOf(payload: Uint8Array): IdTokenHintClaims {
    let claims: Record<string, unknown>;
    try {
      claims = JSON.parse(Buffer.from(payload).toString('utf8')) as Record<string, unknown>;
    } catch {
      throw new IdTokenHintInvalid('malformed');
    }
    if (claims === null || typeof claims !== 'object') throw new IdTokenHintInvalid('malformed');
    if (claims['events'] !== undefined) throw new IdTokenHintInvalid('events');
    // OpenID Connect Core §2: iss exactly this issuer, sub and aud present.
    if (claims['iss'] !== this.issuer) throw new IdTokenHintInvalid('iss');
    const sub = claims['sub'];
    if (typeof sub !== 'string' || sub === '') throw new IdTokenHintInvalid('sub');
    const aud = typeof claims['aud'] === 'string' ? [claims['aud']] : claims['aud'];
    if (!Array.isArray(aud) || aud.length === 0 || !aud.every((a) => typeof a === 'string'))
      throw new IdTokenHintInvalid('aud');
    const sid = claims['sid'];
    return { sub, aud: aud as string[], ...(typeof sid === 'string' ? { sid } : {}) };
  }
}

function headerKid(token: string): string {
  let kid: unknown;
  try {
    ({ kid } = decodeProtectedHeader(token));
  } catch {
    throw new IdTokenHintInvalid('malformed');
  }
  if (typeof kid !== 'string') throw new IdTokenHintInvalid('kid');
  return kid;
}
