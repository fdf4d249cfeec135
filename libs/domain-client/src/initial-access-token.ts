import { OAuthError } from '#lib/oauth-errors';
import type { RecordedEvent } from '#lib/event-store';
import { createHmac } from 'node:crypto';

/**
 * Initial access tokens (RFC 7591 §3): bearer tokens an operator makes so that someone may call
 * POST /register. Only an HMAC of the token names its stream and is stored (checklist STORE-01).
 */
export function initialAccessTokenStreamId(token: string, pepper: Buffer): string {
  return `initial-access-token-${createHmac('sha256', pepper).update(token, 'utf8').digest('base64url')}`;
}

export interface InitialAccessTokenCreated {
  type: 'InitialAccessTokenCreated';
  data: { createdAt: string; expiresAt: string };
}

const initialAccessTokenEventTypes: Record<InitialAccessTokenCreated['type'], true> = {
  InitialAccessTokenCreated: true,
};
/** The event types of `initial-access-token-*` streams. */
export const INITIAL_ACCESS_TOKEN_EVENT_TYPES = Object.keys(
  initialAccessTokenEventTypes,
) as readonly InitialAccessTokenCreated['type'][];

export type InitialAccessTokenState = { status: 'none' } | { status: 'created'; expiresAt: string };

export const initialInitialAccessTokenState = (): InitialAccessTokenState => ({ status: 'none' });

export function evolveInitialAccessToken(
  state: InitialAccessTokenState,
  event: RecordedEvent,
): InitialAccessTokenState {
  if (event.type === 'InitialAccessTokenCreated') {
    return { status: 'created', expiresAt: (event.data as InitialAccessTokenCreated['data']).expiresAt };
  }
  return state;
}

export function createInitialAccessToken(now: Date, ttlSeconds: number): InitialAccessTokenCreated {
  if (!Number.isInteger(ttlSeconds) || ttlSeconds < 60 || ttlSeconds > 365 * 86400)
    throw new OAuthError('invalid_request', 'ttl must be 60 seconds to a year');
  return {
    type: 'InitialAccessTokenCreated',
    data: {
      createdAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + ttlSeconds * 1000).toISOString(),
    },
  };
}

/** RFC 6750 §3.1: an unknown or expired initial access token is invalid_token (401). */
export function requireValidInitialAccessToken(state: InitialAccessTokenState, now: Date): void {
  if (state.status !== 'created' || Date.parse(state.expiresAt) <= now.getTime()) {
    throw new OAuthError('invalid_token', 'a valid initial access token is required', {
      headers: { 'WWW-Authenticate': 'Bearer error="invalid_token"' },
    });
  }
}
