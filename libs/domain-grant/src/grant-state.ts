import type { RequestedClaimNames } from './open-id-facts.js';
import type { AggregateFold } from '#lib/event-store';
import type { Recorded } from '#lib/decider';
import type { GrantEvent, GrantRevocationReason } from './grant-events.js';
import { openIdFacts } from './open-id-facts.js';

interface GrantFacts {
  grantId: string;
  clientId: string;
  sub: string;
  username?: string;
  scope: string[];
  resource: string[];
  redirectUri: string | null;
  deliveredTo: string;
  codeChallenge: string | null;
  codeHash: string;
  codeExpiresAt: number;
  authTime: number;
  /** OpenID Connect Core §3.1.2.1 nonce, §2 amr and acr, and the session's sid: for the ID token. */
  nonce?: string;
  sid?: string;
  amr?: string[];
  acr?: string;
  /** OpenID Connect Core §5.5: the claim names the request asked for. */
  claims?: RequestedClaimNames;
}

export interface RefreshFamily {
  currentHash: string;
  generation: number;
  scope: string[];
  expiresAt: number;
  familyExpiresAt: number;
  /** The token the current one replaced, and when: for the reuse grace window. */
  previousHash: string | null;
  rotatedAt: number;
}

export type { GrantFacts };

/**
 * What decisions need, and nothing that grows with the family: the hashes a family used are asked
 * of the store when a token that is neither current nor previous comes (`presentedWasIssued`), and
 * access tokens are counted, not listed (the audit views list them from the events).
 */
export type GrantState =
  | { status: 'none' }
  | { status: 'code_issued'; grant: GrantFacts }
  | { status: 'active'; grant: GrantFacts; family: RefreshFamily | null; accessTokens: number }
  | { status: 'revoked'; grant: GrantFacts; reason: GrantRevocationReason; accessTokens: number };

export const initialGrantState = (): GrantState => ({ status: 'none' });

/** Names the shape of GrantState in stream snapshots; change it with the state. */
export const GRANT_STATE_SCHEMA = 'grant/2';

const toSeconds = (isoTime: string) => Math.floor(Date.parse(isoTime) / 1000);

export function evolveGrant(state: GrantState, e: Recorded<GrantEvent>): GrantState {
  switch (e.type) {
    case 'AuthorizationCodeIssued':
      return {
        status: 'code_issued',
        grant: {
          grantId: e.data.grantId,
          clientId: e.data.clientId,
          sub: e.data.sub,
          ...(e.data.username !== undefined ? { username: e.data.username } : {}),
          scope: e.data.scope,
          resource: e.data.resource ?? [],
          redirectUri: e.data.redirectUri,
          codeChallenge: e.data.codeChallenge,
          codeHash: e.data.codeHash,
          codeExpiresAt: toSeconds(e.data.expiresAt),
          authTime: e.data.authTime,
          deliveredTo: e.data.deliveredTo,
          ...openIdFacts(e.data),
        },
      };
    case 'AuthorizationCodeRedeemed':
      if (state.status !== 'code_issued') return state;
      return { status: 'active', grant: state.grant, family: null, accessTokens: 1 };
    case 'RefreshTokenIssued':
      if (state.status !== 'active') return state;
      return {
        ...state,
        family: {
          currentHash: e.data.tokenHash,
          generation: e.data.generation,
          scope: e.data.scope,
          expiresAt: toSeconds(e.data.expiresAt),
          familyExpiresAt: toSeconds(e.data.familyExpiresAt),
          previousHash: null,
          rotatedAt: toSeconds(e.data.issuedAt),
        },
      };
    case 'RefreshTokenRotated':
      if (state.status !== 'active' || state.family === null) return state;
      return {
        ...state,
        accessTokens: state.accessTokens + 1,
        family: {
          ...state.family,
          currentHash: e.data.tokenHash,
          generation: e.data.generation,
          expiresAt: toSeconds(e.data.expiresAt),
          previousHash: e.data.previousHash,
          rotatedAt: toSeconds(e.data.rotatedAt),
        },
      };
    case 'RefreshTokenFamilyEnded':
      return state.status === 'active' ? { ...state, family: null } : state;
    case 'AuthorizationCodeReplayed':
    case 'RefreshTokenReuseDetected':
      return state;
    case 'GrantRevoked':
      if (state.status === 'none') return state;
      return {
        status: 'revoked',
        grant: state.grant,
        reason: e.data.reason,
        accessTokens: state.status === 'code_issued' ? 0 : state.accessTokens,
      };
    default: {
      const unknown: never = e;
      void unknown;
      return state;
    }
  }
}

/** How `grant-*` streams are folded and snapshotted (loadAggregate). */
export const GRANT_FOLD: AggregateFold<GrantState> = {
  schema: GRANT_STATE_SCHEMA,
  evolve: evolveGrant,
  initial: initialGrantState,
  snapshotEvery: 100,
};
