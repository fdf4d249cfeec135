/**
 * Payloads on the wire between the gateway, the resource server and the consent service (resource
 * owners, login, consent, authorization codes). See messages.ts for the rules.
 */

import type { AdminCommand, RequestContext } from './messages.js';

export interface UserProfileRequest {
  sub: string;
}

/** What a resource server may learn about a resource owner (never the password hash). */
export interface UserProfile {
  sub: string;
  username: string;
  email?: string;
  name?: string;
  status: 'active' | 'disabled';
}

/** OpenID Connect Core §5.3: the bearer token presented at the UserInfo endpoint (RFC 6750 §2). */
export interface UserInfoRequest {
  context: RequestContext;
  accessToken: string;
}

/** OpenID Connect Core §5.3.2: `sub` and the claims the token's scope releases (§5.4). */
export interface UserInfoResponse {
  sub: string;
  [claim: string]: unknown;
}

/** What the browser presented: the cookies the front channel uses (values as sent). */
export interface BrowserState {
  /** The sealed login session cookie. */
  session?: string;
  /** The login-form nonce cookie (login CSRF binding before any session exists). */
  nonce?: string;
  /** Origin / Sec-Fetch-Site, for the cross-site check on POSTs (cross-site request forgery, RFC 6749 §10.12). */
  origin?: string;
  secFetchSite?: string;
  /** The User-Agent header (at most 512 characters): only its coarse facts are kept. */
  userAgent?: string;
}

/** GET or POST /authorize: every query (or form) parameter with all its values, in order. */
export interface AuthorizeRequest {
  context: RequestContext;
  parameters: [string, string[]][];
  browser: BrowserState;
}

export interface LoginRequest {
  context: RequestContext;
  browser: BrowserState;
  form: Record<string, string>;
}

export interface ResumeRequest {
  context: RequestContext;
  browser: BrowserState;
  tx: string;
}

export interface ConsentDecisionRequest {
  context: RequestContext;
  browser: BrowserState;
  form: Record<string, string>;
}

export interface AccountRequest {
  context: RequestContext;
  browser: BrowserState;
}

export interface AccountRevokeRequest {
  context: RequestContext;
  browser: BrowserState;
  form: Record<string, string>;
}

/**
 * The end-session endpoint (OpenID Connect RP-Initiated Logout 1.0 §2): its parameters as sent
 * (query or form), and the confirmation form posted.
 */
export interface LogoutRequest {
  context: RequestContext;
  browser: BrowserState;
  parameters: Record<string, string>;
}

/** The user signs a session (`sid`) or every session (`all`) out at /account. */
export interface AccountEndSessionRequest {
  context: RequestContext;
  browser: BrowserState;
  form: Record<string, string>;
}

/** A cookie the gateway must set (attributes are the gateway's: HttpOnly, SameSite=Lax, Path=/, Secure on https). */
export interface CookieToSet {
  name: 'session' | 'nonce';
  /** Empty with maxAge 0: delete. */
  value: string;
  maxAgeSeconds: number;
}

export interface ScopeLine {
  scope: string;
  description: string;
}

/** What the front channel answers; the gateway renders it. */
export type FrontChannelResult = { cookies?: CookieToSet[] } & (
  | { kind: 'redirect'; location: string }
  | { kind: 'error-page'; status: number; error: string; description: string }
  | {
      kind: 'login';
      status: number;
      tx: string;
      csrf: string;
      clientName?: string;
      username?: string;
      message?: string;
      retryAfterSeconds?: number;
      /** Origin the form's response may redirect to (CSP form-action). */
      redirectOrigin?: string;
      /** OpenID Connect Core §3.1.2.1 ui_locales: the first the pages can name (html lang). */
      lang?: string;
    }
  | {
      kind: 'consent';
      tx: string;
      csrf: string;
      username: string;
      clientId: string;
      clientName: string;
      clientUri?: string;
      scopes: ScopeLine[];
      redirectOrigin: string;
      lang?: string;
    }
  | {
      kind: 'account';
      username: string;
      csrf: string;
      consents: { clientId: string; clientName: string; scope: string[]; grantedAt: string }[];
      /** The user's sessions that stand; `current` is this browser's. */
      sessions?: (SessionView & { current: boolean })[];
      message?: string;
    }
  | {
      kind: 'logout-confirm';
      csrf: string;
      username: string;
      /** RP-Initiated Logout 1.0 §3: a registered post-logout redirect, carried through the form. */
      continueWith?: { clientId: string; postLogoutRedirectUri: string; state?: string };
      /** Origin the form's response redirects to (CSP form-action). */
      redirectOrigin?: string;
      lang?: string;
    }
  | { kind: 'logged-out'; lang?: string }
);

export interface CreateUserRequest extends AdminCommand {
  username: string;
  password: string;
  email?: string;
  name?: string;
}

export interface UserView {
  sub: string;
  username: string;
  email?: string;
  name?: string;
  /** `erased`: the person was forgotten; `username` reads `[erased]` and nothing else names them. */
  status: 'active' | 'disabled' | 'erased';
  createdAt: string;
}

export interface ListUsersRequest extends AdminCommand {
  limit: number;
  after?: string;
}

export interface ListUsersResponse {
  users: UserView[];
  next?: string;
}

/** Get, disable or enable a user: by sub, or by username. */
export interface UserRefRequest extends AdminCommand {
  sub?: string;
  username?: string;
}

export interface SetPasswordRequest extends UserRefRequest {
  password: string;
}

export interface ConsentView {
  clientId: string;
  scope: string[];
  grantedAt: string;
}

export interface ListConsentsResponse {
  sub: string;
  consents: ConsentView[];
}

export interface RevokeConsentRequest extends UserRefRequest {
  clientId: string;
}

export interface RevokeConsentResponse {
  revoked: boolean;
  grantsRevoked: number;
}

/** A browser session as the account page and the admin API show it (never the User-Agent string). */
export interface SessionView {
  sid: string;
  /** OpenID Connect Core §2 auth_time (ISO instant), amr (RFC 8176), acr. */
  authTime: string;
  amr: string[];
  acr: string;
  userAgent: { browser: string; os: string };
  startedAt: string;
  lastUsedAt: string;
  expiresAt: string;
  /** The clients the session signed in to. */
  clients: string[];
}

export interface ListSessionsResponse {
  sub: string;
  sessions: SessionView[];
}

export interface EndSessionRequest extends UserRefRequest {
  sid: string;
}

export interface EndSessionResponse {
  ended: boolean;
}
