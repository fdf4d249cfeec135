/**
 * parseClaimsParameter (OpenID Connect Core 1.0 §5.5, §5.5.1): the `claims` request parameter.
 * - a JSON object of at most MAX_CLAIMS_PARAMETER_LENGTH characters; members `userinfo` and
 *   `id_token`, each an object whose members are claim names; other members are ignored (§5.5);
 * - each claim request is null or an object whose `essential` is a boolean, `value` a string and
 *   `values` an array of strings when present (§5.5.1); anything else is malformed;
 * - at most MAX_CLAIMS_PER_MEMBER claims per member, names of at most 256 characters;
 * - kept: the names of the claims this server can release (REQUESTABLE_CLAIMS); any other name is
 *   ignored, and so, by claimsWithinScope, is a claim of a scope the client is not registered for (§5.5: the OP may ignore what it does not support), and `essential`, `value` and
 *   `values` change nothing (§5.5.1: a claim not returned is not an error).
 */
export interface RequestedClaims {
  /** Claim names to release at the UserInfo endpoint (§5.5 `userinfo`). */
  userinfo: string[];
  /** Claim names to put in the ID token (§5.5 `id_token`). */
  idToken: string[];
}

/** Core §5.1: the user claims this server holds and may release beside those of the scope. */
export const REQUESTABLE_CLAIMS: readonly string[] = [
  'name',
  'preferred_username',
  'email',
  'email_verified',
];

export const MAX_CLAIMS_PARAMETER_LENGTH = 2048;
export const MAX_CLAIMS_PER_MEMBER = 32;
const MAX_CLAIM_NAME_LENGTH = 256;

export type ClaimsParameterCheck = { error: string } | { claims: RequestedClaims };

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** §5.5.1: null, or {essential?: boolean, value?: string, values?: string[]}. */
function isClaimRequest(v: unknown): boolean {
  if (v === null) return true;
  if (!isObject(v)) return false;
  if (v.essential !== undefined && typeof v.essential !== 'boolean') return false;
  if (v.value !== undefined && typeof v.value !== 'string') return false;
  return v.values === undefined || (Array.isArray(v.values) && v.values.every((x) => typeof x === 'string'));
}

function memberNames(doc: Record<string, unknown>, member: string): string[] | string {
  const value = doc[member];
  if (value === undefined) return [];
  if (!isObject(value)) return `claims.${member} must be an object`;
  const names = Object.keys(value);
  if (names.length > MAX_CLAIMS_PER_MEMBER) return `claims.${member} names too many claims`;
  for (const name of names) {
    if (name.length > MAX_CLAIM_NAME_LENGTH || !isClaimRequest(value[name]))
      return `claims.${member} has a malformed claim request`;
  }
  return names.filter((n) => REQUESTABLE_CLAIMS.includes(n));
}

export function parseClaimsParameter(raw: string): ClaimsParameterCheck {
  if (raw.length > MAX_CLAIMS_PARAMETER_LENGTH) return { error: 'claims is too long' };
  let doc: unknown;
  try {
    doc = JSON.parse(raw);
  } catch {
    return { error: 'claims is not valid JSON' };
  }
  if (!isObject(doc)) return { error: 'claims must be a JSON object' };
  const userinfo = memberNames(doc, 'userinfo');
  if (typeof userinfo === 'string') return { error: userinfo };
  const idToken = memberNames(doc, 'id_token');
  if (typeof idToken === 'string') return { error: idToken };
  return { claims: { userinfo, idToken } };
}

/** Core §5.4: the scope value that releases each requestable claim. */
const SCOPE_OF_CLAIM: Readonly<Record<string, string>> = {
  name: 'profile',
  preferred_username: 'profile',
  email: 'email',
  email_verified: 'email',
};

/**
 * The claims whose scope (Core §5.4) the client is registered for: the parameter never gives a
 * client what its registration could not ask for (RFC 6749 §3.3).
 */
export function claimsWithinScope(claims: RequestedClaims, clientScope: readonly string[]): RequestedClaims {
  const allowed = (name: string) => clientScope.includes(SCOPE_OF_CLAIM[name] ?? '');
  return { userinfo: claims.userinfo.filter(allowed), idToken: claims.idToken.filter(allowed) };
}

/** Whether anything releasable was asked for (an empty request is recorded as none). */
export const hasRequestedClaims = (c: RequestedClaims | undefined): c is RequestedClaims =>
  c !== undefined && (c.userinfo.length > 0 || c.idToken.length > 0);
