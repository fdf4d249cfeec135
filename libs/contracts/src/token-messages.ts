/**
 * Payloads on the wire: see messages.ts for the rules. (Kept in its own file per service area.)
 */
import type { TokenRequest } from './messages.js';

/**
 * The token endpoint's request as the gateway sends it on `token.grant`: the single-valued form
 * parameters, plus RFC 8707 §2 `resource` indicators, the one parameter that may repeat (in the
 * order sent; never in `parameters`).
 */
export interface TokenGrantRequest extends TokenRequest {
  resources?: string[];
}

/**
 * Checklist decision 15 (TREQ-15): browsers may call the token, revocation and metadata endpoints
 * cross-origin only from the origins (RFC 6454) of active public clients' redirect URIs.
 */
export interface CorsOriginsResponse {
  origins: string[];
}
