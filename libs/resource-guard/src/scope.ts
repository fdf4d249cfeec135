/** RFC 6749 §3.3: scope is a space-delimited, case-sensitive list. */
export function scopesOf(claim: unknown): string[] {
  return typeof claim === 'string' ? claim.split(' ').filter((s) => s !== '') : [];
}

/** The scopes of `required` that the token does not carry (RFC 6750 §3.1 insufficient_scope). */
export function missingScopes(required: readonly string[], granted: readonly string[]): string[] {
  const have = new Set(granted);
  return required.filter((s) => !have.has(s));
}
