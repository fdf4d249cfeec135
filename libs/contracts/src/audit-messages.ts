/**
 * Payloads on the wire: see messages.ts for the rules. (Kept in its own file per service area.)
 * The introspection service's refresh-token answers and the grant and user audit API.
 */
import type { AdminCommand, AuditEvent, AuditPageRequest } from './messages.js';
import type { SessionView } from './consent-messages.js';

/** RFC 7662 §2.2 for a refresh token (only the client it was issued to sees it active). */
export interface RefreshTokenIntrospection {
  active: true;
  scope?: string;
  client_id: string;
  username?: string;
  token_type: 'refresh_token';
  /** The refresh token's expiry (idle or absolute, whichever comes first). */
  exp: number;
  /** When this refresh token was issued (the family's last rotation). */
  iat: number;
  sub: string;
  iss: string;
  /** RFC 8707 resources of the grant, when it named any. */
  aud?: string | string[];
}

export interface GrantHistoryRequest extends AdminCommand {
  grantId: string;
  page?: AuditPageRequest;
}

/**
 * A grant's life: its stream (code, redemption, rotations, reuse, revocation), the access tokens
 * issued from it (and their streams), and the consent events of its user for its client.
 */
export interface GrantHistoryResponse {
  grantId: string;
  events: AuditEvent[];
  /** `after` for the next page; null on the last page. */
  next: number | null;
}

export interface UserHistoryRequest extends AdminCommand {
  sub: string;
  page?: AuditPageRequest;
}

/** Every event naming the user (data.sub), and the events of their grants and access tokens. */
export interface UserHistoryResponse {
  sub: string;
  events: AuditEvent[];
  next: number | null;
}

/** A grant at an instant, its stream replayed up to it. No hash is shown. */
export interface GrantAsOfResponse {
  grantId: string;
  asOf: string;
  /** expired: the code expired unredeemed, or the refresh family expired. */
  status: 'code_issued' | 'active' | 'revoked' | 'expired';
  clientId: string;
  sub: string;
  username?: string;
  scope: string[];
  resource: string[];
  authTime: number;
  codeExpiresAt: string;
  /** The refresh-token family, when one was issued (absent after a revocation). */
  refresh?: { generation: number; scope: string[]; expiresAt: string; familyExpiresAt: string };
  accessTokenJtis: string[];
  revocationReason?: string;
  /** Global position of the last event replayed. */
  position: number;
}

export interface SessionHistoryRequest extends AdminCommand {
  sid: string;
  page?: AuditPageRequest;
}

/** A browser session's life: its stream (start, uses, the clients it signed in to, its end). */
export interface SessionHistoryResponse {
  sid: string;
  events: AuditEvent[];
  next: number | null;
}

/** A browser session at an instant, its stream replayed up to it. */
export interface SessionAsOfResponse extends SessionView {
  asOf: string;
  status: 'active' | 'ended' | 'expired';
  sub: string;
  endedAt?: string;
  endReason?: string;
  /** Back-Channel Logout 1.0 deliveries to the clients of the ended session. */
  logoutNotifications?: {
    clientId: string;
    status: 'pending' | 'sending' | 'delivered' | 'abandoned';
    attempts: number;
    lastStatus?: number;
    lastReason?: string;
  }[];
}
