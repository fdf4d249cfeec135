import { grantIdOf, grantStreamId, mintGrantToken, newGrantId } from './grant-token.js';

describe('grant tokens: codes and refresh tokens name their grant', () => {
  it('carry the grant id and 256 random bits', () => {
    const grantId = newGrantId();
    const token = mintGrantToken(grantId);
    expect(grantIdOf(token)).toBe(grantId);
    expect(Buffer.from(token.split('.')[1]!, 'base64url').length).toBe(32);
    expect(mintGrantToken(grantId)).not.toBe(token);
    expect(grantStreamId(grantId)).toBe(`grant-${grantId}`);
  });

  it.each([
    '',
    'abc',
    'x.y',
    `${'a'.repeat(22)}.${'b'.repeat(42)}`,
    `${'a'.repeat(22)}.${'b'.repeat(42)}!`,
    `${'a'.repeat(21)}..${'b'.repeat(42)}`,
  ])('anything else names no grant: %p', (value) => {
    expect(grantIdOf(value)).toBeNull();
  });
});
