/**
 * The three error codes of RFC 6750 §3.1 and the challenge that carries them. A request without
 * any credentials gets a challenge with no error code (§3.1: "SHOULD NOT include an error code").
 */
export type BearerErrorCode = 'invalid_request' | 'invalid_token' | 'insufficient_scope';

export class BearerError extends Error {
  constructor(
    /** undefined: the request carried no credentials at all (§3.1). */
    readonly error: BearerErrorCode | undefined,
    readonly description: string,
    readonly status: 400 | 401 | 403 | 503,
    /** insufficient_scope: the scope the request needs (§3). */
    readonly scope?: string,
  ) {
    super(description);
    this.name = 'BearerError';
  }
}

/** §3.1: missing credentials: 401 and a bare challenge. */
export const missingToken = () => new BearerError(undefined, 'an access token is required', 401);
/** §3.1 invalid_request: 400. */
export const invalidRequest = (description: string) => new BearerError('invalid_request', description, 400);
/** §3.1 invalid_token: 401. */
export const invalidToken = (description: string) => new BearerError('invalid_token', description, 401);
/** §3.1 insufficient_scope: 403, with the scope needed. */
export const insufficientScope = (scope: string[]) =>
  new BearerError('insufficient_scope', `this request needs scope: ${scope.join(' ')}`, 403, scope.join(' '));
/** The authorization server could not be asked (introspection): fail closed, never serve. */
export const authorizationServerUnavailable = (description: string) =>
  new BearerError(undefined, description, 503);

// RFC 6750 §3: error_description and scope values are restricted to these characters.
const quotable = (s: string) => s.replace(/[^\x20-\x21\x23-\x5b\x5d-\x7e]/g, '?');

/** The WWW-Authenticate value of a refusal (RFC 6750 §3). */
export function bearerChallenge(err: BearerError, realm: string): string {
  const params = [`realm="${quotable(realm)}"`];
  if (err.error) {
    params.push(`error="${err.error}"`, `error_description="${quotable(err.description)}"`);
    if (err.scope !== undefined) params.push(`scope="${quotable(err.scope)}"`);
  }
  return `Bearer ${params.join(', ')}`;
}

/** The JSON body sent beside the challenge (the header is the normative part). */
export function bearerErrorBody(err: BearerError): Record<string, string> {
  if (err.status === 503) return { error: 'temporarily_unavailable', error_description: err.description };
  if (!err.error) return { error: 'unauthorized', error_description: err.description };
  return {
    error: err.error,
    error_description: err.description,
    ...(err.scope !== undefined ? { scope: err.scope } : {}),
  };
}
