import ipaddr from 'ipaddr.js';
import { isIP } from 'node:net';

/**
 * Which addresses the server may connect to when it fetches a URL that a client supplied
 * (RFC 9700 §4.16: server-side request forgery; RFC 7591 §5: jwks_uri and other metadata URLs
 * are attacker-chosen). Only public unicast addresses, unless the operator's allow-list names
 * the address, a range holding it, or the host.
 *
 * Refused, by the IANA special-purpose registries as ipaddr.js names them: loopback, unspecified,
 * private (RFC 1918), shared (RFC 6598, 100.64/10), link-local (169.254/16 with the cloud metadata
 * address 169.254.169.254; fe80::/10), unique-local (fc00::/7, with fd00:ec2::254), multicast,
 * broadcast, reserved and documentation ranges, benchmarking, and the IPv6 forms that carry an
 * IPv4 address elsewhere (NAT64 64:ff9b::/96, 6to4, Teredo; IPv4-mapped addresses are judged as
 * the IPv4 address they map). Parsing and range tables are ipaddr.js's, not regular expressions.
 */

export interface OutboundAllowList {
  /** Host names (lower case, no trailing dot) whose resolved addresses are not checked. */
  readonly hosts: ReadonlySet<string>;
  /** Addresses and ranges the operator allows although they are special-purpose. */
  readonly ranges: readonly (readonly [ipaddr.IPv4 | ipaddr.IPv6, number])[];
}

export const NO_OUTBOUND_EXCEPTIONS: OutboundAllowList = { hosts: new Set(), ranges: [] };

export class OutboundAllowListError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OutboundAllowListError';
  }
}

/** RFC 1123 §2.1 host names: letters, digits and hyphens, in dot-separated labels. */
const HOST_NAME =
  /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

const stripBrackets = (host: string) =>
  host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;

export function normalizeHostName(host: string): string {
  return stripBrackets(host.toLowerCase()).replace(/\.$/, '');
}

/**
 * Parses the operator's allow-list: entries separated by commas or white space, each an IP
 * address (`127.0.0.1`, `::1`), a CIDR range (`10.20.0.0/16`, `fd00::/8`) or a host name
 * (`jwks.internal.example`, matched exactly). An empty string allows nothing more.
 */
export function parseOutboundAllowList(value: string): OutboundAllowList {
  const hosts = new Set<string>();
  const ranges: [ipaddr.IPv4 | ipaddr.IPv6, number][] = [];
  for (const raw of value.split(/[\s,]+/).filter(Boolean)) {
    const entry = stripBrackets(raw);
    if (entry.includes('/')) {
      if (!ipaddr.isValidCIDR(entry)) throw new OutboundAllowListError(`not a CIDR range: ${raw}`);
      const [network, bits] = ipaddr.parseCIDR(entry);
      // Addresses are matched unmapped, so an IPv4-mapped range is kept as the IPv4 range it maps.
      ranges.push(unmappable(network) && bits >= 96 ? [network.toIPv4Address(), bits - 96] : [network, bits]);
    } else if (isIP(entry) !== 0) {
      const address = unmapped(ipaddr.parse(entry));
      ranges.push([address, address.kind() === 'ipv4' ? 32 : 128]);
    } else {
      const name = normalizeHostName(entry);
      if (!HOST_NAME.test(name))
        throw new OutboundAllowListError(`not an address, range or host name: ${raw}`);
      hosts.add(name);
    }
  }
  return { hosts, ranges };
}

function unmappable(address: ipaddr.IPv4 | ipaddr.IPv6): address is ipaddr.IPv6 {
  return address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress();
}

/** RFC 4291 §2.5.5.2: an IPv4-mapped IPv6 address reaches the IPv4 address it carries. */
function unmapped(address: ipaddr.IPv4 | ipaddr.IPv6): ipaddr.IPv4 | ipaddr.IPv6 {
  return unmappable(address) ? address.toIPv4Address() : address;
}

/** RFC 4291 §2.4: ::/8 is reserved (it holds the unspecified, loopback and IPv4-compatible addresses). */
const IPV6_RESERVED_ZERO = ipaddr.parseCIDR('::/8');

/**
 * The special-purpose range `address` (an IP address, not a name) lies in, such as `loopback` or
 * `private`, or null for a public unicast address.
 */
export function specialRange(address: string): string | null {
  const ip = unmapped(ipaddr.parse(stripBrackets(address)));
  const range = ip.range();
  if (range !== 'unicast') return range;
  if (ip.kind() === 'ipv6' && ip.match(IPV6_RESERVED_ZERO)) return 'reserved';
  return null;
}

function allowListed(ip: ipaddr.IPv4 | ipaddr.IPv6, allow: OutboundAllowList): boolean {
  return allow.ranges.some(([network, bits]) => network.kind() === ip.kind() && ip.match(network, bits));
}

/**
 * Why the server must not connect to `address` (the special-purpose range it lies in), or null
 * when it may: a public unicast address, or one the operator allows. Anything that is not an IP
 * address is refused.
 */
export function refusedAddress(address: string, allow: OutboundAllowList): string | null {
  const bare = stripBrackets(address);
  if (isIP(bare) === 0 || !ipaddr.isValid(bare)) return 'not an IP address';
  if (allowListed(unmapped(ipaddr.parse(bare)), allow)) return null;
  return specialRange(bare);
}

/** Whether the operator allows this host name whatever it resolves to. */
export function isAllowListedHost(hostname: string, allow: OutboundAllowList): boolean {
  return allow.hosts.has(normalizeHostName(hostname));
}

/**
 * The check that can be made before any DNS look-up, as when a client registers a URL: a URL whose
 * host is an IP literal in a refused range is refused; a host name is judged when it is resolved
 * (its addresses may change), by the outbound fetch. Returns the reason, or null.
 */
export function refusedUrlHost(url: URL, allow: OutboundAllowList): string | null {
  const host = stripBrackets(url.hostname);
  if (isIP(host) === 0) return null;
  return refusedAddress(host, allow);
}
