import type { InitialAccessTokenView } from '#lib/contracts';
import type { Projection, RecordedEvent } from '#lib/event-store';
import { OAuthError } from '#lib/oauth-errors';
import { type Keyset, LEGACY_KID } from '#lib/keysets';
import { createHmac, randomBytes } from 'node:crypto';
import { hashSecret, secretMatches } from './secret.js';

/**
 * Initial access tokens (RFC 7591 §3): bearer tokens an administrator makes so that someone may
 * call POST /register. A token is `<id>.<secret>`: the id names its stream
 * `initial-access-token-<id>` (listed, revoked and audited by it), only an HMAC of the secret is
 * stored. Each registration it allows is an InitialAccessTokenUsed event on that stream, appended
 * with the registration at the stream's version, so a limit on uses holds under concurrency.
 * Tokens made before ids existed (no dot) are found by the HMAC of the whole token under the legacy
 * SECRET_PEPPER (key id p0), while that key is accepted.
 */

const STREAM_PREFIX = 'initial-access-token-';
const ID = /^[A-Za-z0-9_-]{22}$/;
export const MAX_INITIAL_ACCESS_TOKEN_USES = 100_000;

export function initialAccessTokenStreamIdOf(id: string): string {
  return `${STREAM_PREFIX}${id}`;
}

/** Where a presented token lives, and the secret to check; null for what cannot be a token. */
export function locateInitialAccessToken(
  token: string,
  keys: Keyset,
): { streamId: string; secret: string | null } | null {
  if (!/^[\x21-\x7e]{1,512}$/.test(token)) return null;
  const dot = token.indexOf('.');
  if (dot < 0) {
    const pepper = keys.find(LEGACY_KID)?.key;
    if (pepper === undefined) return null;
    const legacy = createHmac('sha256', pepper).update(token, 'utf8').digest('base64url');
    return { streamId: `${STREAM_PREFIX}${legacy}`, secret: null };
  }
  const id = token.slice(0, dot);
  if (!ID.test(id)) return null;
  return { streamId: initialAccessTokenStreamIdOf(id), secret: token.slice(dot + 1) };
}

export interface InitialAccessTokenCreated {
  type: 'InitialAccessTokenCreated';
  /** `id` and `tokenHash` are absent in events written before ids existed. */
  data: { id?: string; tokenHash?: string; createdAt: string; expiresAt: string; maxUses?: number | null };
}

export interface InitialAccessTokenUsed {
  type: 'InitialAccessTokenUsed';
  data: { id: string; clientId: string; usedAt: string };
}

export interface InitialAccessTokenRevoked {
  type: 'InitialAccessTokenRevoked';
  data: { id: string; revokedAt: string };
}

export type InitialAccessTokenEvent =
  InitialAccessTokenCreated | InitialAccessTokenUsed | InitialAccessTokenRevoked;

/**
 * The event types of `initial-access-token-*` streams (a Record over the union: a type added to the
 * union and not here does not compile).
 */
const initialAccessTokenEventTypes: Record<InitialAccessTokenEvent['type'], true> = {
  InitialAccessTokenCreated: true,
  InitialAccessTokenUsed: true,
  InitialAccessTokenRevoked: true,
};
export const INITIAL_ACCESS_TOKEN_EVENT_TYPES = Object.keys(
  initialAccessTokenEventTypes,
) as readonly InitialAccessTokenEvent['type'][];

export type InitialAccessTokenState =
  | { status: 'none' }
  | {
      status: 'created';
      id: string;
      tokenHash: string | null;
      createdAt: string;
      expiresAt: string;
      maxUses: number | null;
      uses: number;
      revokedAt: string | null;
    };

export const initialInitialAccessTokenState = (): InitialAccessTokenState => ({ status: 'none' });

export function evolveInitialAccessToken(
  state: InitialAccessTokenState,
  event: RecordedEvent,
): InitialAccessTokenState {
  const e = event as unknown as InitialAccessTokenEvent;
  switch (e.type) {
    case 'InitialAccessTokenCreated':
      return {
        status: 'created',
        id: e.data.id ?? event.streamId.slice(STREAM_PREFIX.length),
        tokenHash: e.data.tokenHash ?? null,
        createdAt: e.data.createdAt,
        expiresAt: e.data.expiresAt,
        maxUses: e.data.maxUses ?? null,
        uses: 0,
        revokedAt: null,
      };
    case 'InitialAccessTokenUsed':
      return state.status === 'created' ? { ...state, uses: state.uses + 1 } : state;
    case 'InitialAccessTokenRevoked':
      return state.status === 'created' ? { ...state, revokedAt: e.data.revokedAt } : state;
    default:
      return state;
  }
}

/** A new token (shown once) and the event that records it under the HMAC of its secret. */
export function createInitialAccessToken(
  now: Date,
  options: { ttlSeconds: number; maxUses?: number; secretHashKeys: Keyset },
): { token: string; streamId: string; event: InitialAccessTokenCreated } {
  const { ttlSeconds, maxUses } = options;
  if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1 || ttlSeconds > 365 * 86400)
    throw new OAuthError('invalid_request', 'ttl_seconds must be 1 second to a year');
  if (
    maxUses !== undefined &&
    (!Number.isInteger(maxUses) || maxUses < 1 || maxUses > MAX_INITIAL_ACCESS_TOKEN_USES)
  )
    throw new OAuthError('invalid_request', `max_uses must be 1 to ${MAX_INITIAL_ACCESS_TOKEN_USES}`);
  const id = randomBytes(16).toString('base64url');
  const secret = randomBytes(32).toString('base64url');
  return {
    token: `${id}.${secret}`,
    streamId: initialAccessTokenStreamIdOf(id),
    event: {
      type: 'InitialAccessTokenCreated',
      data: {
        id,
        tokenHash: hashSecret(secret, options.secretHashKeys),
        createdAt: now.toISOString(),
        expiresAt: new Date(now.getTime() + ttlSeconds * 1000).toISOString(),
        maxUses: maxUses ?? null,
      },
    },
  };
}

/** RFC 6750 §3.1: a token that is unknown, wrong, expired, revoked or used up is invalid_token (401). */
function invalidInitialAccessToken(): OAuthError {
  return new OAuthError('invalid_token', 'a valid initial access token is required', {
    headers: { 'WWW-Authenticate': 'Bearer error="invalid_token"' },
  });
}

/**
 * The use of a token for one registration (RFC 7591 §3), or invalid_token. The secret is compared
 * as an HMAC in constant time; an unknown token costs the same comparison.
 */
export function useInitialAccessToken(
  state: InitialAccessTokenState,
  presented: { secret: string | null },
  keys: Keyset,
  clientId: string,
  now: Date,
): InitialAccessTokenUsed {
  const known = state.status === 'created' ? state : null;
  const hashOk =
    known === null
      ? (secretMatches(presented.secret ?? '', 'A'.repeat(43), keys), false)
      : known.tokenHash === null
        ? presented.secret === null
        : presented.secret !== null && secretMatches(presented.secret, known.tokenHash, keys);
  if (
    known === null ||
    !hashOk ||
    known.revokedAt !== null ||
    Date.parse(known.expiresAt) <= now.getTime() ||
    (known.maxUses !== null && known.uses >= known.maxUses)
  )
    throw invalidInitialAccessToken();
  return { type: 'InitialAccessTokenUsed', data: { id: known.id, clientId, usedAt: now.toISOString() } };
}

export function revokeInitialAccessToken(
  state: InitialAccessTokenState,
  now: Date,
): InitialAccessTokenRevoked[] {
  if (state.status !== 'created') throw new OAuthError('not_found', 'no such initial access token');
  if (state.revokedAt !== null) return [];
  return [{ type: 'InitialAccessTokenRevoked', data: { id: state.id, revokedAt: now.toISOString() } }];
}

export function initialAccessTokenView(state: InitialAccessTokenState, now: Date): InitialAccessTokenView {
  if (state.status !== 'created') throw new OAuthError('not_found', 'no such initial access token');
  const status: InitialAccessTokenView['status'] =
    state.revokedAt !== null
      ? 'revoked'
      : Date.parse(state.expiresAt) <= now.getTime()
        ? 'expired'
        : state.maxUses !== null && state.uses >= state.maxUses
          ? 'used_up'
          : 'active';
  return {
    id: state.id,
    createdAt: state.createdAt,
    expiresAt: state.expiresAt,
    maxUses: state.maxUses,
    uses: state.uses,
    status,
    ...(state.revokedAt !== null ? { revokedAt: state.revokedAt } : {}),
  };
}

type Row = Extract<InitialAccessTokenState, { status: 'created' }>;

/** The initial access tokens, one row per token (the admin API's list); never a token or its hash. */
export const INITIAL_ACCESS_TOKENS = 'initial_access_tokens';

export const initialAccessTokensProjection: Projection<Row> = {
  name: INITIAL_ACCESS_TOKENS,
  eventTypes: INITIAL_ACCESS_TOKEN_EVENT_TYPES,
  keyOf: (event) => (event.streamId.startsWith(STREAM_PREFIX) ? event.streamId : null),
  evolve(row, event) {
    const next = evolveInitialAccessToken(row ?? initialInitialAccessTokenState(), event);
    return next.status === 'created' ? { ...next, tokenHash: null } : null;
  },
};
