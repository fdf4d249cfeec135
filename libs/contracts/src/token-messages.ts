/**
 * Payloads on the wire: see messages.ts for the rules. (Kept in its own file per service area.)
 */
import type { AdminCommand, RequestContext, TokenRequest } from './messages.js';

// --- Signing keys (the CLI's `keys` commands; docs/signing-keys.md) ---

/** One signing key as an operator sees it; instants are ISO 8601. Never carries private material. */
export interface SigningKeyView {
  kid: string;
  alg: 'ES256' | 'EdDSA' | 'RS256';
  /** What it signs: access tokens, or ID tokens (OpenID Connect Core §2); absent: access tokens. */
  purpose?: 'access_token' | 'id_token';
  status: 'published' | 'active' | 'retired';
  generatedAt: string;
  /** Earliest instant the key may sign (published first so caches hold it: RFC 7517 §5 key sets). */
  activatesAt: string;
  activatedAt: string | null;
  retiredAt: string | null;
  /** When a retired key leaves the JWKS. */
  publishUntil: string | null;
  /** Whether the JWKS serves the key now. */
  inJwks: boolean;
}

export type ListSigningKeysRequest = AdminCommand;

export interface SigningKeyList {
  keys: SigningKeyView[];
}

export interface RotateSigningKeyRequest extends AdminCommand {
  /** Activate at once, waiving the pre-publication lead (caches that have not seen the key reject its tokens). */
  now?: boolean;
  /** The ID-token key of this alg (RS256, ES256, EdDSA) instead of the access-token key. */
  idTokenAlg?: string;
}

export interface RotateSigningKeyResponse {
  /** `published`: a new key, active at `key.activatesAt`; `already-pending`: a published successor exists; `activated`: a key is active now. */
  outcome: 'published' | 'already-pending' | 'activated';
  key: SigningKeyView;
}

export interface RetireSigningKeyRequest extends AdminCommand {
  kid: string;
  /** Leave the JWKS now (a compromised key): tokens it signed stop verifying at once. */
  withdraw?: boolean;
}

/**
 * The token endpoint's request as the gateway sends it on `token.grant`: the single-valued form
 * parameters, plus RFC 8707 §2 `resource` indicators, the one parameter that may repeat (in the
 * order sent; never in `parameters`).
 */
export interface TokenGrantRequest extends TokenRequest {
  resources?: string[];
}

/**
 * Browsers may call the token, revocation and metadata endpoints
 * cross-origin only from the origins (RFC 6454) of active public clients' redirect URIs.
 */
export interface CorsOriginsResponse {
  origins: string[];
}

// --- Grants changed on another service's behalf (the token service owns `grant-*`) ---

/**
 * The consent service's request for an authorization code the user approved (RFC 6749 §4.1.2).
 * Consent mints the code and sends its hash only, so that the clear code never leaves the process
 * that redirects the browser with it: not the bus, not the token service's memory or logs. The
 * hash is keyed (SECRET_HASH_KEYS, which both services hold), so the redemption at the token
 * endpoint finds it as it finds any stored code.
 */
export interface IssueAuthorizationCodeRequest {
  context: RequestContext;
  /** `user:<sub>`: the user whose session consent verified; the audit actor of the event. */
  actor: string;
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
  /** Seconds since the epoch (OpenID Connect Core §2 auth_time). */
  authTime: number;
  /** OpenID Connect Core §3.1.2.1: the authorization request's `nonce`, echoed in the ID token. */
  nonce?: string;
  /** OpenID Connect Back-Channel Logout 1.0 §2.1: the browser session's id, the ID token's `sid`. */
  sid?: string;
  /** RFC 8176 authentication method references of the session's authentication. */
  amr?: string[];
  /** OpenID Connect Core §2: authentication context class reference satisfied. */
  acr?: string;
  /** OpenID Connect Core §5.5: the claim names the request asked for, by where they go. */
  claims?: { userinfo: string[]; idToken: string[] };
}

/** `already-issued`: the grant id (one per authorization transaction) has its code already. */
export type IssueAuthorizationCodeResponse = { outcome: 'issued' } | { outcome: 'already-issued' };

/**
 * The consent service's request to revoke a user's grants (every grant, or those of one client):
 * the ids come from consent's user-grants read model; the token service revokes only the grants
 * that are the user's (and the client's), whatever the list says.
 */
export interface RevokeUserGrantsRequest {
  context: Partial<RequestContext>;
  /** Who asked: `user:<sub>` or the administrator consent verified. */
  actor: string;
  sub: string;
  clientId: string | null;
  reason: 'user_disabled' | 'consent_revoked';
  grantIds: string[];
}

export interface RevokeUserGrantsResponse {
  /** Grants this request revoked (those revoked already are not counted). */
  revoked: number;
}

/**
 * The consent service's request for a logout token (OpenID Connect Back-Channel Logout 1.0 §2.4)
 * for one delivery: the token service holds the ID-token keys and sees the user's `sub` as the
 * client does (pairwise or public). `jti` is chosen by consent, which records it before sending.
 */
export interface IssueLogoutTokenRequest {
  context: Partial<RequestContext>;
  sid: string;
  /** The user's own subject identifier. */
  sub: string;
  clientId: string;
  jti: string;
}

export interface IssueLogoutTokenResponse {
  logoutToken: string;
}

/**
 * RFC 7009 §2.2 outcome of a revocation the token service recorded: the global position of the
 * revocation event, or null when there was nothing to record (unknown token, another client's
 * public token, already revoked).
 */
export interface TokenRevocationResponse {
  position: number | null;
}
