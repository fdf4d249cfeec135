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
