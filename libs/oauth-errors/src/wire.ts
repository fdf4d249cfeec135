import { isOAuthErrorCode, OAuthError, type OAuthErrorCode } from './oauth-error.js';

/**
 * What an error looks like once it leaves a process: over NATS inside an RpcException, and as the
 * JSON body of an HTTP response (RFC 6749 §5.2). `detail`, `cause` and stacks never appear here.
 */
export interface WireError {
  error: OAuthErrorCode;
  error_description: string;
  status: number;
  headers?: Record<string, string>;
}

/**
 * The one place that decides what leaves the process: an OAuthError keeps its code and safe
 * description; anything else becomes server_error (node-oidc-provider's err_out rule).
 */
export function toWire(err: unknown): WireError {
  if (err instanceof OAuthError) {
    const wire: WireError = { error: err.error, error_description: err.description, status: err.status };
    if (Object.keys(err.headers).length > 0) wire.headers = err.headers;
    return wire;
  }
  return {
    error: 'server_error',
    error_description: 'the server encountered an unexpected condition',
    status: 500,
  };
}

/** Rebuilds an OAuthError on the receiving side, matching on the code string, never on instanceof. */
export function fromWire(value: unknown): OAuthError | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (!isOAuthErrorCode(v.error)) return undefined;
  const description = typeof v.error_description === 'string' ? v.error_description : v.error;
  const status = typeof v.status === 'number' && v.status >= 400 && v.status < 600 ? v.status : undefined;
  const headers =
    typeof v.headers === 'object' && v.headers !== null ? (v.headers as Record<string, string>) : undefined;
  return new OAuthError(v.error, description, { status, headers });
}
