import { hasLoneSurrogate, isStorableText } from './unicode.js';

describe('text Postgres can store (RFC 7493 §2.1, RFC 3629 §3)', () => {
  it('finds an unpaired high or low surrogate anywhere', () => {
    for (const s of ['\ud800', '\udfff', 'a\ud800', '\udc00b', 'a\ud83d\ud83d\ude00', '\ude00\ud83d'])
      expect([s, hasLoneSurrogate(s)]).toEqual([s, true]);
  });

  it('accepts pairs, other text and the empty string', () => {
    for (const s of ['', 'plain', '\ud83d\ude00', '\u{10FFFF}', 'é\uFFFD', '\ud83d\ude00\ud83d\ude00'])
      expect([s, hasLoneSurrogate(s), isStorableText(s)]).toEqual([s, false, true]);
  });

  it('NUL is not storable either', () => {
    expect(isStorableText('a\u0000b')).toBe(false);
    expect(isStorableText('a\ud800b')).toBe(false);
  });
});
