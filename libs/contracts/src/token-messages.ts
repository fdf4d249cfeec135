/**
 * Payloads on the wire: see messages.ts for the rules. (Kept in its own file per service area.)
 */
import type { AdminCommand, TokenRequest } from './messages.js';

// --- Signing keys (the CLI's `keys` commands; docs/signing-keys.md) ---

/** One signing key as an operator sees it; instants are ISO 8601. Never carries private material. */
export interface SigningKeyView {
  kid: string;
  alg: 'ES256' | 'EdDSA' | 'RS256';
  status: 'published' | 'active' | 'retired';
  generatedAt: string;
  /** Earliest instant the key may sign (pre-publication, checklist decision 14). */
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
 * Checklist decision 15 (TREQ-15): browsers may call the token, revocation and metadata endpoints
 * cross-origin only from the origins (RFC 6454) of active public clients' redirect URIs.
 */
export interface CorsOriginsResponse {
  origins: string[];
}
