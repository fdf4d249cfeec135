/**
 * A client_id this server accepts: RFC 6749 Appendix A.1 allows visible characters and spaces
 * (VSCHAR); ours are 1 to 128 visible ASCII characters, no space, so that an id is safe in a URL,
 * a log line and a stream id without escaping.
 */
export const CLIENT_ID_PATTERN = /^[\x21-\x7e]{1,128}$/;

export function isClientId(value: unknown): value is string {
  return typeof value === 'string' && CLIENT_ID_PATTERN.test(value);
}
