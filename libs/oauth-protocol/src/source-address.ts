import ipaddr from 'ipaddr.js';

/**
 * sourceAddressKey: what a per-address limit counts (RFC 6749 §10.10, OAuth 2.1 §2.4.1: credential
 * checks MUST resist brute force).
 * - An IPv4 address counts as itself; an IPv4-mapped IPv6 address (`::ffff:192.0.2.1`, what a
 *   dual-stack listener reports) as the IPv4 address it carries.
 * - An IPv6 address counts as its /64: an end site is given at least a /64 (RFC 6177 §2), so one
 *   subscriber could otherwise change address on every attempt.
 * - Anything else (no address known) counts as one shared unknown source.
 */
export function sourceAddressKey(ip: string | undefined): string {
  if (ip === undefined || !ipaddr.isValid(ip)) return 'unknown';
  const address = ipaddr.process(ip);
  if (address.kind() === 'ipv4') return address.toString();
  const parts = (address as ipaddr.IPv6).parts.slice(0, 4).map((p) => p.toString(16));
  return `${parts.join(':')}::/64`;
}
