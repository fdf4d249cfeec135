import type { RequestedClaimNames } from './open-id-facts.js';
import { openIdFacts } from './open-id-facts.js';
import type { NewEvent } from '#lib/event-store';
import { accept, type Decision, refuse } from '#lib/decider';
import { invalidGrant, invalidRequest, type OAuthError } from '#lib/oauth-errors';
import { checkCodeVerifier, scopeWithinGrant } from '#lib/oauth-protocol';
import type {
  AuthorizationCodeIssued,
  AuthorizationCodeRedeemed,
  AuthorizationCodeReplayed,
  GrantRevocationReason,
  GrantRevoked,
  RefreshTokenFamilyEnded,
  RefreshTokenIssued,
  RefreshTokenReuseDetected,
  RefreshTokenRotated,
} from './grant-events.js';
import type { GrantFacts, GrantState, RefreshFamily } from './grant-state.js';

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
 *
 * Events: grant-events.ts; state and its fold: grant-state.ts.
 */

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
  /** OpenID Connect Core §3.1.2.1 nonce, §2 amr and acr, and the session's sid: for the ID token. */
  nonce?: string;
  sid?: string;
  amr?: string[];
  acr?: string;
  /** OpenID Connect Core §5.5: the claim names the request asked for. */
  claims?: RequestedClaimNames;
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
  /**
   * RFC 9700 §4.14.2 reuse grace window: 0 (default) means any reuse revokes the family; at most
   * 60 seconds.
   */
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
 * replayed code, a reused refresh token), the refusal to answer after the append.
 */
export type GrantDecision = Decision;

const ok = (events: NewEvent[]): GrantDecision => accept(events);
const seconds = (d: Date) => Math.floor(d.getTime() / 1000);
const iso = (s: number) => new Date(s * 1000).toISOString();

// A uniform answer: the client is not told which check failed (RFC 6749 §5.2 invalid_grant).
const badCode = () => invalidGrant('the authorization code is invalid, expired or already used');
const badRefresh = () => invalidGrant('the refresh token is invalid, expired or revoked');

/**
 * checkRedemptionParameters
 * - RFC 6749 §4.1.3: redirect_uri must match when the authorization request had one; it may be
 *   omitted only when PKCE was used (OAuth 2.1 §4.1.3).
 * - RFC 7636 §4.6: the verifier must match the challenge (constant time).
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
    case 'IssueAuthorizationCode':
      return decideIssueAuthorizationCode(command, state);
    case 'RedeemAuthorizationCode':
      return decideRedeemAuthorizationCode(command, state);
    case 'RotateRefreshToken':
      return decideRotateRefreshToken(command, state);
    case 'RevokeGrant':
      return decideRevokeGrant(command, state);
    default: {
      const unknown: never = command;
      throw new Error(`unknown command ${(unknown as { type: string }).type}`);
    }
  }
}

export function decideIssueAuthorizationCode(
  command: IssueAuthorizationCode,
  state: GrantState,
): GrantDecision {
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
      ...openIdFacts(command),
    },
  };
  return ok([event]);
}

export function decideRedeemAuthorizationCode(
  command: RedeemAuthorizationCode,
  state: GrantState,
): GrantDecision {
  if (state.status === 'none' || state.grant.codeHash !== command.codeHash) return refuse(badCode());
  const { grant } = state;
  // RFC 6749 §4.1.3: the code was issued to another client; its attempt does not burn the code.
  if (grant.clientId !== command.clientId) return refuse(badCode());
  const now = seconds(command.now);
  // OAuth 2.1 §7.5.2: a replay carrying invalid parameters (wrong verifier, wrong redirect_uri) is
  // refused without revoking, or a leaked code alone could revoke a grant.
  const invalid = checkRedemptionParameters(grant, command);
  if (invalid !== null) return refuse(invalid);
  if (state.status !== 'code_issued') {
    // A grant revoked before its code was ever redeemed (consent revoked, user disabled): nothing
    // was issued from it, so there is no replay to record.
    if (state.status === 'revoked' && state.accessTokens === 0) return refuse(badCode());
    return refuse(badCode(), codeReplayEvents(grant, command.clientId, now, state.status === 'revoked'));
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

/**
 * RFC 6749 §4.1.2, RFC 9700 §4.2: a replayed code revokes every token issued from it; on a grant
 * already revoked the replay is only recorded.
 */
function codeReplayEvents(
  grant: GrantFacts,
  clientId: string,
  now: number,
  alreadyRevoked: boolean,
): NewEvent[] {
  const replayed: AuthorizationCodeReplayed = {
    type: 'AuthorizationCodeReplayed',
    data: { grantId: grant.grantId, clientId, at: iso(now) },
  };
  if (alreadyRevoked) return [replayed];
  const revoked: GrantRevoked = {
    type: 'GrantRevoked',
    data: { grantId: grant.grantId, reason: 'code_replay', revokedBy: `client:${clientId}`, at: iso(now) },
  };
  return [replayed, revoked];
}

export function decideRotateRefreshToken(command: RotateRefreshToken, state: GrantState): GrantDecision {
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
    return refuse(badRefresh(), reuseEvents(grant, family, command, now));
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
  // RFC 6749 §6: the access token's scope may narrow, never widen beyond what the owner granted nor
  // beyond what the client may still request; the refresh token keeps the grant's scope.
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

/**
 * RFC 9700 §4.14.2, OAuth 2.1 §4.3.1: a rotated refresh token presented again means it leaked; the
 * whole family is revoked.
 */
function reuseEvents(
  grant: GrantFacts,
  family: RefreshFamily,
  command: RotateRefreshToken,
  now: number,
): NewEvent[] {
  return [
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
  ];
}

export function decideRevokeGrant(command: RevokeGrant, state: GrantState): GrantDecision {
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
