import type { AggregateFold, NewEvent, RecordedEvent } from '#lib/event-store';
import { invalidGrant, invalidRequest, type OAuthError } from '#lib/oauth-errors';
import { checkCodeVerifier, scopeWithinGrant } from '#lib/oauth-protocol';

/**
 * A grant: one authorization (a user's consent to a client for a scope), the authorization code
 * that carries it to the token endpoint, and the refresh-token family that comes from it. One
 * stream per grant, `grant-<grantId>`; the event store's expected-version check decides every
 * race (two redemptions of one code, two uses of one refresh token): exactly one append wins and
 * the loser re-decides on the new state.
 *
 * ```mermaid
 * stateDiagram-v2
 *   [*] --> code_issued: AuthorizationCodeIssued
 *   code_issued --> active: AuthorizationCodeRedeemed
 *   active --> active: RefreshTokenRotated
 *   active --> active: RefreshTokenFamilyEnded (the rotation limit: no more refresh tokens)
 *   code_issued --> revoked: GrantRevoked
 *   active --> revoked: GrantRevoked (revocation, code replay, refresh-token reuse, client or user disabled)
 *   revoked --> revoked: replays are recorded, nothing is issued
 * ```
 */

// ---------------------------------------------------------------- events

export interface AuthorizationCodeIssued {
  type: 'AuthorizationCodeIssued';
  data: {
    grantId: string;
    clientId: string;
    sub: string;
    /** The resource owner's login name, for RFC 7662 `username`. */
    username?: string;
    scope: string[];
    /** RFC 8707 §2: resource indicators of the authorization request; absent or empty: none. */
    resource?: string[];
    /** The redirect_uri of the authorization request, when it was sent (RFC 6749 §4.1.3). */
    redirectUri: string | null;
    /** The redirect URI the code was delivered to. */
    deliveredTo: string;
    codeChallenge: string | null;
    codeHash: string;
    issuedAt: string;
    expiresAt: string;
    authTime: number;
  };
}

export interface AuthorizationCodeRedeemed {
  type: 'AuthorizationCodeRedeemed';
  data: { grantId: string; codeHash: string; redeemedAt: string; accessTokenJti: string };
}

export interface AuthorizationCodeReplayed {
  type: 'AuthorizationCodeReplayed';
  data: { grantId: string; clientId: string; at: string };
}

export interface RefreshTokenIssued {
  type: 'RefreshTokenIssued';
  data: {
    grantId: string;
    tokenHash: string;
    generation: number;
    scope: string[];
    issuedAt: string;
    /** Idle expiry: the token must be used before this instant. */
    expiresAt: string;
    /** Absolute expiry of the whole family. */
    familyExpiresAt: string;
    accessTokenJti: string;
  };
}

export interface RefreshTokenRotated {
  type: 'RefreshTokenRotated';
  data: {
    grantId: string;
    previousHash: string;
    tokenHash: string;
    generation: number;
    /** The scope of the access token issued with it; the refresh token keeps the grant's scope. */
    scope: string[];
    rotatedAt: string;
    expiresAt: string;
    accessTokenJti: string;
    /** True when the previous token was re-presented inside the reuse grace window (decision 5). */
    withinGrace: boolean;
  };
}

export interface RefreshTokenReuseDetected {
  type: 'RefreshTokenReuseDetected';
  data: { grantId: string; tokenHash: string; generation: number; clientId: string; at: string };
}

/**
 * The family reached the server's rotation limit (REFRESH_TOKEN_MAX_ROTATIONS): no refresh token is
 * issued from it again, and the client must send the user through authorization once more. Access
 * tokens already issued stay valid until they expire.
 */
export interface RefreshTokenFamilyEnded {
  type: 'RefreshTokenFamilyEnded';
  data: { grantId: string; reason: 'rotation_limit'; generation: number; at: string };
}

export type GrantRevocationReason =
  | 'revocation_request'
  | 'code_replay'
  | 'refresh_token_reuse'
  | 'consent_revoked'
  | 'client_disabled'
  | 'user_disabled';

export interface GrantRevoked {
  type: 'GrantRevoked';
  data: { grantId: string; reason: GrantRevocationReason; revokedBy: string; at: string };
}

export type GrantEvent =
  | AuthorizationCodeIssued
  | AuthorizationCodeRedeemed
  | AuthorizationCodeReplayed
  | RefreshTokenIssued
  | RefreshTokenRotated
  | RefreshTokenReuseDetected
  | RefreshTokenFamilyEnded
  | GrantRevoked;

/**
 * Every event type of `grant-*` streams (a Record over the union: a type added to the union and not
 * here does not compile; the published-events contract in libs/contracts is checked against every
 * `*_EVENT_TYPES` array).
 */
const grantEventTypes: Record<GrantEvent['type'], true> = {
  AuthorizationCodeIssued: true,
  AuthorizationCodeRedeemed: true,
  AuthorizationCodeReplayed: true,
  RefreshTokenIssued: true,
  RefreshTokenRotated: true,
  RefreshTokenReuseDetected: true,
  RefreshTokenFamilyEnded: true,
  GrantRevoked: true,
};
export const GRANT_EVENT_TYPES = Object.keys(grantEventTypes) as readonly GrantEvent['type'][];

// ---------------------------------------------------------------- state

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

// ---------------------------------------------------------------- commands

export interface IssueAuthorizationCode {
  type: 'IssueAuthorizationCode';
  grantId: string;
  clientId: string;
  sub: string;
  username?: string;
  scope: string[];
  resource?: string[];
  redirectUri: string | null;
  deliveredTo: string;
  codeChallenge: string | null;
  codeHash: string;
  authTime: number;
  now: Date;
  ttlSeconds: number;
}

export interface RefreshTokenPlan {
  tokenHash: string;
  idleTtlSeconds: number;
  absoluteTtlSeconds: number;
}

/** RFC 6749 §4.1.3, RFC 7636 §4.5. */
export interface RedeemAuthorizationCode {
  type: 'RedeemAuthorizationCode';
  codeHash: string;
  clientId: string;
  redirectUri: string | undefined;
  codeVerifier: string | undefined;
  accessTokenJti: string;
  /** null: the client gets no refresh token (not registered for the refresh_token grant). */
  refreshToken: RefreshTokenPlan | null;
  now: Date;
}

/** RFC 6749 §6. */
export interface RotateRefreshToken {
  type: 'RotateRefreshToken';
  presentedHash: string;
  clientId: string;
  /** The requested scope, already parsed; undefined = the family's scope (§6). */
  scope: string[] | undefined;
  /** What the client may request now (its registered scope and granted privileges). */
  clientScope: readonly string[];
  newHash: string;
  idleTtlSeconds: number;
  accessTokenJti: string;
  /** Checklist decision 5: 0 (default) means any reuse revokes the family; at most 60. */
  reuseGraceSeconds: number;
  /**
   * Whether the presented hash was ever a token of this family, as the store answers: needed only
   * when it is neither the current nor the previous token (presentedHashNeedsHistory).
   */
  presentedWasIssued: boolean;
  /** Rotations after which the family ends (RefreshTokenFamilyEnded). */
  maxRotations: number;
  now: Date;
}

export interface RevokeGrant {
  type: 'RevokeGrant';
  reason: GrantRevocationReason;
  revokedBy: string;
  now: Date;
}

export type GrantCommand =
  IssueAuthorizationCode | RedeemAuthorizationCode | RotateRefreshToken | RevokeGrant;

/**
 * What a command leads to: events to append and, for a refusal that must still be recorded (a
 * replayed code, a reused refresh token), the error to answer after the append.
 */
export type GrantDecision = { events: NewEvent[]; error: OAuthError | null };

const ok = (events: NewEvent[]): GrantDecision => ({ events, error: null });
const refuse = (error: OAuthError, events: NewEvent[] = []): GrantDecision => ({ events, error });
const seconds = (d: Date) => Math.floor(d.getTime() / 1000);
const iso = (s: number) => new Date(s * 1000).toISOString();

// A uniform answer: the client is not told which check failed (RFC 6749 §5.2 invalid_grant).
const badCode = () => invalidGrant('the authorization code is invalid, expired or already used');
const badRefresh = () => invalidGrant('the refresh token is invalid, expired or revoked');

/**
 * checkRedemptionParameters
 * - RFC 6749 §4.1.3 + checklist decision 3: redirect_uri must match when the authorization
 *   request had one; it may be omitted only when PKCE was used.
 * - RFC 7636 §4.6 + decision 2: the verifier must match the challenge (constant time).
 */
function checkRedemptionParameters(grant: GrantFacts, command: RedeemAuthorizationCode): OAuthError | null {
  if (grant.redirectUri !== null) {
    if (command.redirectUri === undefined) {
      if (grant.codeChallenge === null) return invalidRequest('redirect_uri is required');
    } else if (command.redirectUri !== grant.redirectUri) {
      return invalidGrant('redirect_uri does not match the authorization request');
    }
  } else if (command.redirectUri !== undefined && command.redirectUri !== grant.deliveredTo) {
    return invalidGrant('redirect_uri does not match the authorization request');
  }
  try {
    checkCodeVerifier(grant.codeChallenge, command.codeVerifier);
  } catch (err) {
    return err as OAuthError;
  }
  return null;
}

export function decideGrant(command: GrantCommand, state: GrantState): GrantDecision {
  switch (command.type) {
    case 'IssueAuthorizationCode': {
      if (state.status !== 'none') throw new Error(`grant ${command.grantId} already exists`);
      const now = seconds(command.now);
      const event: AuthorizationCodeIssued = {
        type: 'AuthorizationCodeIssued',
        data: {
          grantId: command.grantId,
          clientId: command.clientId,
          sub: command.sub,
          ...(command.username !== undefined ? { username: command.username } : {}),
          scope: command.scope,
          ...(command.resource?.length ? { resource: command.resource } : {}),
          redirectUri: command.redirectUri,
          deliveredTo: command.deliveredTo,
          codeChallenge: command.codeChallenge,
          codeHash: command.codeHash,
          issuedAt: iso(now),
          expiresAt: iso(now + command.ttlSeconds),
          authTime: command.authTime,
        },
      };
      return ok([event]);
    }

    case 'RedeemAuthorizationCode': {
      if (state.status === 'none' || state.grant.codeHash !== command.codeHash) return refuse(badCode());
      const { grant } = state;
      // Checklist decision 4 (TOK-07): another client's attempt does not burn the code.
      if (grant.clientId !== command.clientId) return refuse(badCode());
      const now = seconds(command.now);
      // OAuth 2.1 §7.5.2 (checklist TOK-05): a replay carrying invalid parameters (wrong verifier,
      // wrong redirect_uri) is refused without revoking, or a leaked code alone could revoke a grant.
      const invalid = checkRedemptionParameters(grant, command);
      if (invalid !== null) return refuse(invalid);
      if (state.status !== 'code_issued') {
        // A grant revoked before its code was ever redeemed (consent revoked, user disabled): nothing
        // was issued from it, so there is no replay to record (checklist TOK-16).
        if (state.status === 'revoked' && state.accessTokens === 0) return refuse(badCode());
        // RFC 6749 §4.1.2, RFC 9700 §4.2: a replayed code revokes every token issued from it.
        const replayed: AuthorizationCodeReplayed = {
          type: 'AuthorizationCodeReplayed',
          data: { grantId: grant.grantId, clientId: command.clientId, at: iso(now) },
        };
        if (state.status === 'revoked') return refuse(badCode(), [replayed]);
        const revoked: GrantRevoked = {
          type: 'GrantRevoked',
          data: {
            grantId: grant.grantId,
            reason: 'code_replay',
            revokedBy: `client:${command.clientId}`,
            at: iso(now),
          },
        };
        return refuse(badCode(), [replayed, revoked]);
      }
      if (now >= grant.codeExpiresAt) return refuse(badCode());
      const events: NewEvent[] = [
        {
          type: 'AuthorizationCodeRedeemed',
          data: {
            grantId: grant.grantId,
            codeHash: command.codeHash,
            redeemedAt: iso(now),
            accessTokenJti: command.accessTokenJti,
          },
        } satisfies AuthorizationCodeRedeemed,
      ];
      if (command.refreshToken !== null) {
        const rt = command.refreshToken;
        const familyExpiresAt = now + rt.absoluteTtlSeconds;
        events.push({
          type: 'RefreshTokenIssued',
          data: {
            grantId: grant.grantId,
            tokenHash: rt.tokenHash,
            generation: 1,
            scope: grant.scope,
            issuedAt: iso(now),
            expiresAt: iso(Math.min(now + rt.idleTtlSeconds, familyExpiresAt)),
            familyExpiresAt: iso(familyExpiresAt),
            accessTokenJti: command.accessTokenJti,
          },
        } satisfies RefreshTokenIssued);
      }
      return ok(events);
    }

    case 'RotateRefreshToken': {
      if (state.status === 'none' || state.status === 'code_issued') return refuse(badRefresh());
      const { grant } = state;
      const now = seconds(command.now);
      const family = state.status === 'active' ? state.family : null;
      // RFC 6749 §6: the refresh token is bound to the client it was issued to.
      if (grant.clientId !== command.clientId) return refuse(badRefresh());
      if (state.status === 'revoked' || family === null) return refuse(badRefresh());
      const isCurrent = family.currentHash === command.presentedHash;
      const inGrace =
        !isCurrent &&
        family.previousHash === command.presentedHash &&
        command.reuseGraceSeconds > 0 &&
        now - family.rotatedAt <= Math.min(command.reuseGraceSeconds, 60);
      if (!isCurrent && !inGrace) {
        if (!command.presentedWasIssued) return refuse(badRefresh());
        // RFC 9700 §4.14.2, OAuth 2.1 §4.3.1: a rotated refresh token presented again means it
        // leaked; the whole family is revoked (checklist decision 5).
        return refuse(badRefresh(), [
          {
            type: 'RefreshTokenReuseDetected',
            data: {
              grantId: grant.grantId,
              tokenHash: command.presentedHash,
              generation: family.generation,
              clientId: command.clientId,
              at: iso(now),
            },
          } satisfies RefreshTokenReuseDetected,
          {
            type: 'GrantRevoked',
            data: {
              grantId: grant.grantId,
              reason: 'refresh_token_reuse',
              revokedBy: 'system:token',
              at: iso(now),
            },
          } satisfies GrantRevoked,
        ]);
      }
      if (now >= family.expiresAt || now >= family.familyExpiresAt) return refuse(badRefresh());
      if (family.generation - 1 >= command.maxRotations) {
        return refuse(badRefresh(), [
          {
            type: 'RefreshTokenFamilyEnded',
            data: {
              grantId: grant.grantId,
              reason: 'rotation_limit',
              generation: family.generation,
              at: iso(now),
            },
          } satisfies RefreshTokenFamilyEnded,
        ]);
      }
      // RFC 6749 §6: the access token's scope may narrow, never widen beyond what the owner
      // granted nor beyond what the client may still request; the refresh token keeps the
      // grant's scope (checklist RT-08).
      let scope: string[];
      try {
        scope = scopeWithinGrant(command.scope, grant.scope, command.clientScope);
      } catch (err) {
        return refuse(err as OAuthError);
      }
      return ok([
        {
          type: 'RefreshTokenRotated',
          data: {
            grantId: grant.grantId,
            previousHash: command.presentedHash,
            tokenHash: command.newHash,
            generation: family.generation + 1,
            scope,
            rotatedAt: iso(now),
            expiresAt: iso(Math.min(now + command.idleTtlSeconds, family.familyExpiresAt)),
            accessTokenJti: command.accessTokenJti,
            withinGrace: inGrace,
          },
        } satisfies RefreshTokenRotated,
      ]);
    }

    case 'RevokeGrant': {
      if (state.status === 'none' || state.status === 'revoked') return ok([]);
      return ok([
        {
          type: 'GrantRevoked',
          data: {
            grantId: state.grant.grantId,
            reason: command.reason,
            revokedBy: command.revokedBy,
            at: command.now.toISOString(),
          },
        } satisfies GrantRevoked,
      ]);
    }

    default: {
      const unknown: never = command;
      throw new Error(`unknown command ${(unknown as { type: string }).type}`);
    }
  }
}

/**
 * Whether deciding a rotation for `presentedHash` needs the family's history (a token that is
 * neither the current nor the previous one: a reused one, or none of ours).
 */
export function presentedHashNeedsHistory(state: GrantState, presentedHash: string): boolean {
  if (state.status !== 'active' || state.family === null) return false;
  return presentedHash !== state.family.currentHash && presentedHash !== state.family.previousHash;
}

/** The store probe that answers `presentedWasIssued`: was this hash ever a token of the family. */
export const ISSUED_REFRESH_TOKEN_QUERY = {
  types: ['RefreshTokenIssued', 'RefreshTokenRotated'] as const,
  field: 'tokenHash',
} as const;

const toSeconds = (isoTime: string) => Math.floor(Date.parse(isoTime) / 1000);

export function evolveGrant(state: GrantState, event: RecordedEvent): GrantState {
  const e = event as unknown as GrantEvent;
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
