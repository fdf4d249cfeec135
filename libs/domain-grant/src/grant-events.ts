/** Events of `grant-*` streams (past tense; hashes only, never a code or token). */

import type { RequestedClaimNames } from './open-id-facts.js';

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
    /** OpenID Connect Core §3.1.2.1 nonce, §2 amr and acr, and the session's sid: for the ID token. */
    nonce?: string;
    sid?: string;
    amr?: string[];
    acr?: string;
    /** OpenID Connect Core §5.5: the claim names the request asked for. */
    claims?: RequestedClaimNames;
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
    /** True when the previous token was re-presented inside the reuse grace window (RFC 9700 §4.14.2). */
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
