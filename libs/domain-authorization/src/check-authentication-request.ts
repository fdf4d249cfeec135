import type { OAuthErrorCode } from '#lib/oauth-errors';
import {
  claimsWithinScope,
  hasRequestedClaims,
  parseClaimsParameter,
  type RequestedClaims,
} from '#lib/oauth-protocol';

/**
 * checkAuthenticationParameters (OpenID Connect Core 1.0 §3.1.2.1), for requests whose scope has
 * `openid` only; a plain OAuth request keeps RFC 6749's behaviour and these parameters are ignored:
 * - prompt: a space-delimited list of none, login, consent, select_account; an unknown value, or
 *   none with any other value, is invalid_request.
 * - max_age: a non-negative integer (seconds), else invalid_request; absent, the client's
 *   registered default_max_age applies (Registration §2).
 * - login_hint: kept (at most 256 characters) to prefill the login form.
 * - acr_values: kept (space-delimited); only password authentication is offered.
 * - ui_locales: kept, the well-formed BCP 47 tags only (RFC 5646 §2.1), for the pages' language.
 * - display: ignored, whatever its value (the pages are responsive).
 * - id_token_hint: kept (at most 8192 characters) for the endpoint to verify (an ID token of this
 *   issuer for this client, else invalid_request) and hold against the session: see
 *   authenticationStep.
 * - claims (§5.5): parsed by parseClaimsParameter (libs/oauth-protocol); malformed is
 *   invalid_request; the names it keeps, of scopes the client is registered for, ride on the
 *   consented grant.
 */
export type Prompt = 'none' | 'login' | 'consent' | 'select_account';

export interface AuthenticationParameters {
  prompt: Prompt[];
  /** Seconds. */
  maxAge?: number;
  loginHint?: string;
  acrValues?: string[];
  uiLocales?: string[];
  /** §5.5: the releasable claims the request named, absent when none. */
  claims?: RequestedClaims;
  /** The `id_token_hint` as sent; replaced by `hint` once the endpoint has verified it. */
  idTokenHint?: string;
  /** The verified hint: the user (as the client sees them) and session it was issued for. */
  hint?: { sub: string; sid?: string };
}

const PROMPTS: readonly string[] = ['none', 'login', 'consent', 'select_account'];
const MAX_HINT_LENGTH = 256;
const LOCALE = /^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$/;
const ACR = /^[\x21-\x7e]{1,256}$/;

type Check =
  { error: { error: OAuthErrorCode; description: string } } | { authentication?: AuthenticationParameters };

const invalid = (description: string): Check => ({ error: { error: 'invalid_request', description } });

/** The first value of a parameter (repetition is refused before), empty meaning absent (RFC 6749 §3.1). */
function first(params: ReadonlyMap<string, readonly string[]>, name: string): string | undefined {
  const v = params.get(name)?.[0];
  return v === undefined || v === '' ? undefined : v;
}

const words = (v: string | undefined) => (v ?? '').split(' ').filter((w) => w !== '');

export function checkAuthenticationParameters(
  params: ReadonlyMap<string, readonly string[]>,
  scope: readonly string[],
  client: { defaultMaxAge?: number; scope?: readonly string[] } = {},
): Check {
  if (!scope.includes('openid')) return {};
  const prompt = [...new Set(words(first(params, 'prompt')))];
  const unknown = prompt.find((p) => !PROMPTS.includes(p));
  if (unknown !== undefined) return invalid(`unsupported prompt value: ${unknown.slice(0, 32)}`);
  if (prompt.includes('none') && prompt.length > 1)
    return invalid('prompt=none cannot be combined with other values');
  const maxAgeSent = first(params, 'max_age');
  if (maxAgeSent !== undefined && !/^\d{1,9}$/.test(maxAgeSent))
    return invalid('max_age must be a non-negative integer');
  const loginHint = first(params, 'login_hint');
  if (loginHint !== undefined && loginHint.length > MAX_HINT_LENGTH) return invalid('login_hint is too long');
  const acrValues = words(first(params, 'acr_values'));
  if (!acrValues.every((a) => ACR.test(a))) return invalid('acr_values is malformed');
  const idTokenHint = first(params, 'id_token_hint');
  if (idTokenHint !== undefined && idTokenHint.length > 8192) return invalid('id_token_hint is too long');
  const claimsSent = first(params, 'claims');
  const parsed = claimsSent === undefined ? undefined : parseClaimsParameter(claimsSent);
  if (parsed !== undefined && 'error' in parsed) return invalid(parsed.error);
  const claims: RequestedClaims | undefined =
    parsed === undefined || client.scope === undefined
      ? parsed?.claims
      : claimsWithinScope(parsed.claims, client.scope);
  const maxAge = maxAgeSent !== undefined ? Number(maxAgeSent) : client.defaultMaxAge;
  const uiLocales = words(first(params, 'ui_locales'))
    .filter((l) => l.length <= 35 && LOCALE.test(l))
    .slice(0, 10);
  return {
    authentication: {
      prompt: prompt as Prompt[],
      ...(maxAge !== undefined ? { maxAge } : {}),
      ...(loginHint !== undefined ? { loginHint } : {}),
      ...(acrValues.length > 0 ? { acrValues: acrValues.slice(0, 10) } : {}),
      ...(uiLocales.length > 0 ? { uiLocales } : {}),
      ...(hasRequestedClaims(claims) ? { claims } : {}),
      ...(idTokenHint !== undefined ? { idTokenHint } : {}),
    },
  };
}

/**
 * What the authorization endpoint does with the browser's session (OpenID Connect Core §3.1.2.3):
 * `login` (the login page), `login_required` (prompt=none and a login is needed: an error
 * redirect, never a page), or `proceed` with the session.
 * - no session: a login.
 * - prompt=login or select_account, or the session's auth_time older than max_age (max_age=0:
 *   always), unless the user logged in during this request: a login again.
 * - a verified id_token_hint that does not name the session's user (§3.1.2.1: "otherwise, it SHOULD
 *   return an error, such as login_required"), unless the user logged in during this request: a
 *   login again (login_required with prompt=none).
 */
export function authenticationStep(
  authentication: AuthenticationParameters | undefined,
  session: { authTime: number; hintNamesUser?: boolean } | null,
  request: { startedAt: number; now: number },
): 'login' | 'login_required' | 'proceed' {
  const silent = authentication?.prompt.includes('none') === true;
  if (session === null) return silent ? 'login_required' : 'login';
  if (authentication === undefined || session.authTime >= request.startedAt) return 'proceed';
  const forced =
    authentication.prompt.includes('login') ||
    authentication.prompt.includes('select_account') ||
    session.hintNamesUser === false;
  const tooOld =
    authentication.maxAge !== undefined && request.now - session.authTime >= authentication.maxAge * 1000;
  if (!forced && !tooOld) return 'proceed';
  return silent ? 'login_required' : 'login';
}

/**
 * Whether a verified id_token_hint names the signed-in user (§3.1.2.1): its `sid` is the session's,
 * or, for a client that sees the user's own identifier, its `sub` is the user's. A pairwise `sub`
 * (Core §8.1) cannot be compared here: only the session's `sid` ties it to the user.
 */
export function hintNamesUser(
  hint: { sub: string; sid?: string },
  session: { sid: string; sub: string },
  pairwise: boolean,
): boolean {
  return hint.sid === session.sid || (!pairwise && hint.sub === session.sub);
}

/** The pages' language from ui_locales: the first tag of a language the pages are written in. */
export function pageLanguage(authentication: AuthenticationParameters | undefined): string | undefined {
  return authentication?.uiLocales?.find((l) => PAGE_LANGUAGES.includes(l.split('-')[0]!.toLowerCase()));
}

const PAGE_LANGUAGES: readonly string[] = ['en'];
