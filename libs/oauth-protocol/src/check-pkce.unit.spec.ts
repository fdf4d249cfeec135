import { OAuthError } from '#lib/oauth-errors';
import { checkCodeChallenge, checkCodeVerifier, s256 } from './check-pkce.js';

// RFC 7636 Appendix B.
const VERIFIER = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';
const CHALLENGE = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    return err instanceof OAuthError ? err.error : 'not-an-oauth-error';
  }
}

describe('PKCE (RFC 7636)', () => {
  it('S256 matches the Appendix B example', () => {
    expect(s256(VERIFIER)).toBe(CHALLENGE);
    expect(codeOf(() => checkCodeVerifier(CHALLENGE, VERIFIER))).toBeUndefined();
  });

  describe('at the authorization endpoint (§4.3, decision 1)', () => {
    it('accepts S256 with a 43-character challenge', () => {
      expect(checkCodeChallenge(CHALLENGE, 'S256')).toBe(CHALLENGE);
    });
    it.each([
      ['plain', CHALLENGE],
      [undefined, CHALLENGE],
      ['s256', CHALLENGE],
      ['S256', 'short'],
      ['S256', `${CHALLENGE}=`],
      ['S256', CHALLENGE.replace('-', '+')],
    ])('refuses method %p with challenge %p as invalid_request', (method, challenge) => {
      expect(codeOf(() => checkCodeChallenge(challenge, method))).toBe('invalid_request');
    });
    it("no challenge is allowed here (whether it is required is the client policy's call)", () => {
      expect(checkCodeChallenge(undefined, undefined)).toBeNull();
      expect(codeOf(() => checkCodeChallenge(undefined, 'S256'))).toBe('invalid_request');
    });
  });

  describe('at the token endpoint (§4.6, decision 2)', () => {
    it.each([
      ['missing', undefined],
      ['wrong', 'a'.repeat(43)],
      ['too short', VERIFIER.slice(0, 42)],
      ['too long', 'a'.repeat(129)],
      ['illegal characters', `${VERIFIER.slice(0, 42)}+`],
      ['the challenge itself', CHALLENGE],
    ])('a %s verifier is invalid_grant', (_what, verifier) => {
      expect(codeOf(() => checkCodeVerifier(CHALLENGE, verifier))).toBe('invalid_grant');
    });
    it('a verifier where no challenge was sent is a downgrade: invalid_grant', () => {
      expect(codeOf(() => checkCodeVerifier(null, VERIFIER))).toBe('invalid_grant');
      expect(codeOf(() => checkCodeVerifier(null, undefined))).toBeUndefined();
    });
  });
});
