/** The OpenID Connect facts of the authentication, recorded only when present. */
export function openIdFacts(facts: { nonce?: string; sid?: string; amr?: string[]; acr?: string }): {
  nonce?: string;
  sid?: string;
  amr?: string[];
  acr?: string;
} {
  return {
    ...(facts.nonce !== undefined ? { nonce: facts.nonce } : {}),
    ...(facts.sid !== undefined ? { sid: facts.sid } : {}),
    ...(facts.amr !== undefined && facts.amr.length > 0 ? { amr: facts.amr } : {}),
    ...(facts.acr !== undefined ? { acr: facts.acr } : {}),
  };
}
