/**
 * The claims of a JWT access token (RFC 9068 §2.2; §2.2.1 for auth_time, §2.2.3 for scope), as the
 * token endpoint issues them, the keyring signs them and introspection verifies them.
 * (libs/resource-guard keeps its own copy: it is installable without the rest of the monorepo.)
 */
export interface AccessTokenClaims {
  iss: string;
  sub: string;
  aud: string | string[];
  /** NumericDate (RFC 7519 §2): seconds since the epoch. */
  exp: number;
  iat: number;
  jti: string;
  client_id: string;
  /** RFC 9068 §2.2.3: space-delimited scope values. */
  scope?: string;
  auth_time?: number;
}
