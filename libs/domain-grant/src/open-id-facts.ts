/** OpenID Connect Core §5.5: the claim names a request asked for, by where they are released. */
export interface RequestedClaimNames {
  userinfo: string[];
  idToken: string[];
}

interface OpenIdFacts {
  nonce?: string;
  sid?: string;
  amr?: string[];
  acr?: string;
  claims?: RequestedClaimNames;
}

/** The OpenID Connect facts of the authentication, recorded only when present. */
export function openIdFacts(facts: OpenIdFacts): OpenIdFacts {
  return {
    ...(facts.nonce !== undefined ? { nonce: facts.nonce } : {}),
    ...(facts.sid !== undefined ? { sid: facts.sid } : {}),
    ...(facts.amr !== undefined && facts.amr.length > 0 ? { amr: facts.amr } : {}),
    ...(facts.acr !== undefined ? { acr: facts.acr } : {}),
    ...(facts.claims !== undefined && (facts.claims.userinfo.length > 0 || facts.claims.idToken.length > 0)
      ? { claims: { userinfo: facts.claims.userinfo, idToken: facts.claims.idToken } }
      : {}),
  };
}
