/**
 * Text that no UTF-8 encoder can write and Postgres refuses (in jsonb as a `\ud800` escape, in
 * text as an invalid byte sequence): U+0000 and unpaired UTF-16 surrogates.
 * - RFC 7493 §2.1 (I-JSON): strings and member names MUST NOT include code points that identify
 *   surrogates; RFC 8259 §8.2: their handling is unpredictable.
 * - RFC 3629 §3: the surrogates U+D800..U+DFFF are not encodable in UTF-8.
 *
 * A regular expression rather than String.prototype.isWellFormed: that method is ES2024, beyond
 * the TypeScript library this project compiles against (ES2023).
 */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** True when `text` holds an unpaired surrogate. */
export function hasLoneSurrogate(text: string): boolean {
  return LONE_SURROGATE.test(text);
}

/** True when `text` can be stored and sent as UTF-8 unchanged: no NUL, no unpaired surrogate. */
export function isStorableText(text: string): boolean {
  return !text.includes('\u0000') && !LONE_SURROGATE.test(text);
}
