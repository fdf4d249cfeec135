import {
  errors,
  jwtVerify,
  SignJWT,
  type CryptoKey,
  type JWTPayload,
  type JWTVerifyGetKey,
  type KeyObject,
} from 'jose';
import type { AccessTokenClaims } from '#lib/contracts';
import type { SigningAlg } from './keyring-events.js';

/** RFC 9068 §2.1: the `typ` header of a JWT access token. */
export const ACCESS_TOKEN_TYP = 'at+jwt';

/** RFC 9068 §2.2: the claims are libs/contracts' AccessTokenClaims. */
export type { AccessTokenClaims } from '#lib/contracts';

export interface AccessTokenSigningKey {
  kid: string;
  alg: SigningAlg;
  privateKey: CryptoKey | KeyObject;
}

export async function signAccessToken(
  claims: AccessTokenClaims,
  key: AccessTokenSigningKey,
): Promise<string> {
  // RFC 9068 §2.1: typ "at+jwt"; kid names the JWKS key the resource server verifies with.
  return new SignJWT({ ...claims })
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: ACCESS_TOKEN_TYP })
    .sign(key.privateKey);
}

export type AccessTokenInvalidReason =
  | 'malformed'
  | 'wrong_typ'
  | 'alg_not_allowed'
  | 'no_matching_key'
  | 'bad_signature'
  | 'wrong_issuer'
  | 'wrong_audience'
  | 'expired'
  | 'not_yet_valid'
  | 'missing_claim'
  | 'invalid_claim'
  | 'unverifiable';

/** Any reason a presented access token is not accepted. `cause` is for logs only. */
export class AccessTokenInvalid extends Error {
  constructor(
    readonly reason: AccessTokenInvalidReason,
    readonly claim?: string,
    options?: { cause?: unknown },
  ) {
    super(`access token invalid: ${reason}${claim === undefined ? '' : ` (${claim})`}`, options);
    this.name = 'AccessTokenInvalid';
  }
}

export interface VerifyAccessTokenOptions {
  /** RFC 9068 §4: `iss` MUST exactly match the issuer identifier. */
  issuer: string;
  /** Resolves the verification key from the header, e.g. jose `createLocalJWKSet(jwksDocument(...))`. */
  keys: JWTVerifyGetKey;
  /** RFC 9068 §4, RFC 8725 §3.1: only these `alg` values are accepted. */
  algorithms: readonly SigningAlg[];
  clockToleranceSeconds: number;
  /** RFC 9068 §4: a resource server MUST check `aud`; the issuer's own introspection may skip it. */
  audience?: string | string[];
  /** Defaults to the current time. */
  now?: Date;
}

/** RFC 9068 §2.2: REQUIRED claims. */
const REQUIRED_CLAIMS = ['iss', 'exp', 'aud', 'sub', 'client_id', 'iat', 'jti'];

export async function verifyAccessToken(
  token: string,
  options: VerifyAccessTokenOptions,
): Promise<AccessTokenClaims> {
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(token, options.keys, {
      issuer: options.issuer,
      audience: options.audience,
      algorithms: [...options.algorithms],
      clockTolerance: options.clockToleranceSeconds,
      currentDate: options.now,
      // RFC 9068 §4 and RFC 8725 §3.11: typ must be "at+jwt" or "application/at+jwt".
      typ: ACCESS_TOKEN_TYP,
      requiredClaims: REQUIRED_CLAIMS,
    }));
  } catch (err) {
    throw fromJoseError(err);
  }
  return checkClaimTypes(payload);
}

function fromJoseError(err: unknown): AccessTokenInvalid {
  if (!(err instanceof errors.JOSEError))
    return new AccessTokenInvalid('unverifiable', undefined, { cause: err });
  switch (err.code) {
    case 'ERR_JWT_EXPIRED':
      return new AccessTokenInvalid('expired', 'exp', { cause: err });
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      return fromClaimFailure(err as errors.JWTClaimValidationFailed);
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
      return new AccessTokenInvalid('alg_not_allowed', undefined, { cause: err });
    case 'ERR_JWKS_NO_MATCHING_KEY':
    case 'ERR_JWKS_MULTIPLE_MATCHING_KEYS':
      return new AccessTokenInvalid('no_matching_key', undefined, { cause: err });
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return new AccessTokenInvalid('bad_signature', undefined, { cause: err });
    case 'ERR_JWS_INVALID':
    case 'ERR_JWT_INVALID':
    case 'ERR_JOSE_NOT_SUPPORTED':
    case 'ERR_JWK_INVALID':
      return new AccessTokenInvalid('malformed', undefined, { cause: err });
    default:
      return new AccessTokenInvalid('unverifiable', undefined, { cause: err });
  }
}

function fromClaimFailure(err: errors.JWTClaimValidationFailed): AccessTokenInvalid {
  const options = { cause: err };
  if (err.reason === 'missing') return new AccessTokenInvalid('missing_claim', err.claim, options);
  switch (err.claim) {
    case 'typ':
      return new AccessTokenInvalid('wrong_typ', 'typ', options);
    case 'iss':
      return new AccessTokenInvalid('wrong_issuer', 'iss', options);
    case 'aud':
      return new AccessTokenInvalid('wrong_audience', 'aud', options);
    case 'nbf':
      return new AccessTokenInvalid('not_yet_valid', 'nbf', options);
    default:
      return new AccessTokenInvalid('invalid_claim', err.claim, options);
  }
}

function checkClaimTypes(payload: JWTPayload): AccessTokenClaims {
  const invalid = (claim: string) => new AccessTokenInvalid('invalid_claim', claim);
  for (const claim of ['iss', 'sub', 'jti', 'client_id'] as const) {
    if (typeof payload[claim] !== 'string' || payload[claim] === '') throw invalid(claim);
  }
  // RFC 7519 §4.1.3: a string or an array of strings.
  const { aud } = payload;
  if (!(typeof aud === 'string' || (Array.isArray(aud) && aud.every((a) => typeof a === 'string')))) {
    throw invalid('aud');
  }
  for (const claim of ['exp', 'iat'] as const) {
    if (typeof payload[claim] !== 'number') throw invalid(claim);
  }
  if (payload.scope !== undefined && typeof payload.scope !== 'string') throw invalid('scope');
  if (payload.auth_time !== undefined && typeof payload.auth_time !== 'number') throw invalid('auth_time');
  return payload as unknown as AccessTokenClaims;
}
