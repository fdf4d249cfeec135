/**
 * The one OAuth error type. `error` is the RFC error code; `description` is safe to show to the
 * caller; `detail` and `cause` are for logs only and never leave the process (see `toWire`).
 */
export type OAuthErrorCode =
  // RFC 6749 §4.1.2.1, §5.2
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'unsupported_response_type'
  | 'invalid_scope'
  | 'access_denied'
  | 'server_error'
  | 'temporarily_unavailable'
  // RFC 7009 §2.2.1
  | 'unsupported_token_type'
  // RFC 7591 §3.2.2
  | 'invalid_redirect_uri'
  | 'invalid_client_metadata'
  // RFC 8707 §2
  | 'invalid_target'
  // RFC 6750 §3.1
  | 'invalid_token'
  | 'insufficient_scope'
  // OpenID Connect Core 1.0 §3.1.2.6
  | 'interaction_required'
  | 'login_required'
  | 'account_selection_required'
  | 'consent_required'
  // not an RFC 6749 code: resources that do not exist (admin and management APIs)
  | 'not_found'
  | 'method_not_allowed';

const defaultStatus: Record<OAuthErrorCode, number> = {
  invalid_request: 400,
  // RFC 6749 §5.2: 401 when the client authenticated through the Authorization header.
  invalid_client: 401,
  invalid_grant: 400,
  unauthorized_client: 400,
  unsupported_grant_type: 400,
  unsupported_response_type: 400,
  invalid_scope: 400,
  access_denied: 403,
  server_error: 500,
  temporarily_unavailable: 503,
  unsupported_token_type: 400,
  invalid_redirect_uri: 400,
  invalid_client_metadata: 400,
  invalid_target: 400,
  invalid_token: 401,
  insufficient_scope: 403,
  interaction_required: 400,
  login_required: 400,
  account_selection_required: 400,
  consent_required: 400,
  not_found: 404,
  method_not_allowed: 405,
};

export function isOAuthErrorCode(value: unknown): value is OAuthErrorCode {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(defaultStatus, value);
}

/** RFC 6749 §5.2: error_description is limited to %x20-21 / %x23-5B / %x5D-7E. */
export function sanitizeDescription(text: string): string {
  return text.replace(/[^\x20-\x21\x23-\x5b\x5d-\x7e]/g, '?').slice(0, 300);
}

export interface OAuthErrorOptions {
  status?: number;
  /** Internal detail for logs; never sent to the caller. */
  detail?: string;
  cause?: unknown;
  /** Extra HTTP headers the gateway must send with this error (e.g. Retry-After). */
  headers?: Record<string, string>;
}

export class OAuthError extends Error {
  readonly error: OAuthErrorCode;
  readonly description: string;
  readonly status: number;
  readonly detail: string | undefined;
  readonly headers: Record<string, string>;

  constructor(error: OAuthErrorCode, description: string, options: OAuthErrorOptions = {}) {
    super(`${error}: ${description}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'OAuthError';
    this.error = error;
    this.description = sanitizeDescription(description);
    this.status = options.status ?? defaultStatus[error];
    this.detail = options.detail;
    this.headers = options.headers ?? {};
  }

  withStatus(status: number): OAuthError {
    return new OAuthError(this.error, this.description, { ...this.options(), status });
  }

  withDetail(detail: string): OAuthError {
    return new OAuthError(this.error, this.description, { ...this.options(), detail });
  }

  private options(): OAuthErrorOptions {
    return { status: this.status, detail: this.detail, cause: this.cause, headers: this.headers };
  }
}

export const invalidRequest = (description: string, o?: OAuthErrorOptions) =>
  new OAuthError('invalid_request', description, o);
export const invalidClient = (description = 'client authentication failed', o?: OAuthErrorOptions) =>
  new OAuthError('invalid_client', description, o);
export const invalidGrant = (description: string, o?: OAuthErrorOptions) =>
  new OAuthError('invalid_grant', description, o);
export const unauthorizedClient = (description: string, o?: OAuthErrorOptions) =>
  new OAuthError('unauthorized_client', description, o);
export const unsupportedGrantType = (description: string, o?: OAuthErrorOptions) =>
  new OAuthError('unsupported_grant_type', description, o);
export const invalidScope = (description: string, o?: OAuthErrorOptions) =>
  new OAuthError('invalid_scope', description, o);
export const serverError = (detail: string, cause?: unknown) =>
  new OAuthError('server_error', 'the server encountered an unexpected condition', { detail, cause });
/** RFC 9110 §10.2.3, RFC 7009 §2.2.1: a 503 says when to come back. */
export const RETRY_AFTER_SECONDS = 5;

export const temporarilyUnavailable = (detail: string, cause?: unknown) =>
  new OAuthError('temporarily_unavailable', 'the service is temporarily unavailable, retry later', {
    detail,
    cause,
    headers: { 'Retry-After': String(RETRY_AFTER_SECONDS) },
  });
export const notFound = (description: string) => new OAuthError('not_found', description);
