import { invalidRequest, OAuthError } from '#lib/oauth-errors';
import { hasLoneSurrogate } from './unicode.js';

/**
 * parseForm / rejectDuplicateParams
 * - RFC 6749 §3.1, §3.2: parameters sent without a value are treated as omitted; a parameter
 *   MUST NOT be included more than once.
 * - RFC 6749 §3.2, §10.14, OAuth 2.1 §7.11: broken percent-encoding, invalid UTF-8, NUL bytes, bracket
 *   syntax and too many parameters are invalid_request, never a crash.
 */
export interface FormLimits {
  maxParameters: number;
}

export type FormParameters = Map<string, string[]>;

/** Unreserved characters only (RFC 3986 §2.3): nothing to decode, no NUL, no surrogate. */
const PLAIN = /^[A-Za-z0-9._~-]*$/;

function decodeComponent(raw: string): string {
  if (PLAIN.test(raw)) return raw;
  const plus = raw.replace(/\+/g, ' ');
  let decoded: string;
  try {
    decoded = decodeURIComponent(plus);
  } catch {
    throw invalidRequest('malformed percent-encoding or invalid UTF-8');
  }
  if (decoded.includes('\u0000')) throw invalidRequest('NUL characters are not allowed');
  // decodeURIComponent refuses a percent-encoded surrogate (RFC 3629 §3), not a raw one.
  if (hasLoneSurrogate(decoded)) throw invalidRequest('invalid UTF-8');
  return decoded;
}

export function parseFormEncoded(body: string, limits: FormLimits): FormParameters {
  const params: FormParameters = new Map();
  if (body === '') return params;
  const pairs = body.split('&');
  if (pairs.length > limits.maxParameters) {
    throw new OAuthError('invalid_request', 'too many parameters');
  }
  for (const pair of pairs) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const name = decodeComponent(eq === -1 ? pair : pair.slice(0, eq));
    const value = decodeComponent(eq === -1 ? '' : pair.slice(eq + 1));
    if (/[[\]]/.test(name)) throw invalidRequest(`parameter name not allowed: ${name}`);
    const list = params.get(name);
    if (list) list.push(value);
    else params.set(name, [value]);
  }
  return params;
}

/**
 * Single-valued view: empty values are omitted; any repeated parameter is invalid_request, except
 * the names in `repeatable` (RFC 8707 §2 `resource`), which are left out of the view: read them
 * with `repeatedValues`.
 */
export function singleValued(
  params: FormParameters,
  repeatable: readonly string[] = [],
): Record<string, string> {
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [name, values] of params) {
    if (repeatable.includes(name)) continue;
    const present = values.filter((v) => v !== '');
    if (values.length > 1) throw invalidRequest(`parameter included more than once: ${name}`);
    if (present.length === 1) out[name] = present[0]!;
  }
  return out;
}

/** Every non-empty value of a parameter that may repeat (RFC 8707 §2 `resource`), in order. */
export function repeatedValues(params: FormParameters, name: string): string[] {
  return (params.get(name) ?? []).filter((v) => v !== '');
}
