import {
  isAllowListedHost,
  NO_OUTBOUND_EXCEPTIONS,
  OutboundAllowListError,
  parseOutboundAllowList,
  refusedAddress,
  refusedUrlHost,
  specialRange,
} from './address-policy.js';

describe('outbound address policy (RFC 9700 §4.16, IANA special-purpose address registries)', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['0.0.0.0', 'unspecified'],
    ['10.0.0.1', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.254', 'private'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'carrierGradeNat'],
    ['169.254.169.254', 'linkLocal'],
    ['224.0.0.1', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['192.0.2.10', 'reserved'],
    ['240.0.0.1', 'reserved'],
    ['::1', 'loopback'],
    ['::', 'unspecified'],
    ['fe80::1', 'linkLocal'],
    ['fc00::1', 'uniqueLocal'],
    ['fd00:ec2::254', 'uniqueLocal'],
    ['ff02::1', 'multicast'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:169.254.169.254', 'linkLocal'],
    ['::ffff:10.0.0.1', 'private'],
    ['::7f00:1', 'reserved'],
    ['64:ff9b::a9fe:a9fe', 'rfc6052'],
    ['2002:7f00:1::1', '6to4'],
    ['2001:db8::1', 'reserved'],
  ])('%s is refused (%s)', (address, range) => {
    expect(specialRange(address)).toBe(range);
    expect(refusedAddress(address, NO_OUTBOUND_EXCEPTIONS)).toBe(range);
  });

  it.each(['93.184.215.14', '8.8.8.8', '172.32.0.1', '2606:4700::6810:84e5', '::ffff:8.8.8.8'])(
    '%s, a public unicast address, is allowed',
    (address) => {
      expect(refusedAddress(address, NO_OUTBOUND_EXCEPTIONS)).toBeNull();
    },
  );

  it('refuses what is not an IP address', () => {
    expect(refusedAddress('localhost', NO_OUTBOUND_EXCEPTIONS)).toBe('not an IP address');
  });

  describe('the operator allow-list', () => {
    it('allows the addresses, ranges and hosts it names, and nothing else', () => {
      const allow = parseOutboundAllowList('127.0.0.1, 10.20.0.0/16 fd00::/8,[::1] jwks.Internal.example.');
      expect(refusedAddress('127.0.0.1', allow)).toBeNull();
      expect(refusedAddress('::ffff:127.0.0.1', allow)).toBeNull();
      expect(refusedAddress('127.0.0.2', allow)).toBe('loopback');
      expect(refusedAddress('10.20.3.4', allow)).toBeNull();
      expect(refusedAddress('10.21.0.1', allow)).toBe('private');
      expect(refusedAddress('fd12::1', allow)).toBeNull();
      expect(refusedAddress('::1', allow)).toBeNull();
      expect(refusedAddress('169.254.169.254', allow)).toBe('linkLocal');
      expect(isAllowListedHost('JWKS.internal.example', allow)).toBe(true);
      expect(isAllowListedHost('other.internal.example', allow)).toBe(false);
    });

    it('keeps an IPv4-mapped range as the IPv4 range it maps', () => {
      const allow = parseOutboundAllowList('::ffff:10.0.0.0/104');
      expect(refusedAddress('10.1.2.3', allow)).toBeNull();
      expect(refusedAddress('10.255.0.1', allow)).toBeNull();
      expect(refusedAddress('192.168.0.1', allow)).toBe('private');
    });

    it('is empty for an empty setting', () => {
      expect(parseOutboundAllowList('  ')).toEqual({ hosts: new Set(), ranges: [] });
    });

    it.each(['10.0.0.0/33', 'not a host!', 'exa_mple.com', '1.2.3.4/x'])('refuses the entry %s', (entry) => {
      expect(() => parseOutboundAllowList(entry)).toThrow(OutboundAllowListError);
    });
  });

  describe('refusedUrlHost: the check made before any look-up (at registration)', () => {
    it.each([
      ['https://127.0.0.1:9977/jwks', 'loopback'],
      ['https://0x7f.1/jwks', 'loopback'],
      ['https://2130706433/jwks', 'loopback'],
      ['https://[::ffff:127.0.0.1]/jwks', 'loopback'],
      ['https://169.254.169.254/latest/meta-data/', 'linkLocal'],
      ['https://[fd00:ec2::254]/', 'uniqueLocal'],
    ])('%s is refused (%s)', (url, range) => {
      expect(refusedUrlHost(new URL(url), NO_OUTBOUND_EXCEPTIONS)).toBe(range);
    });

    it('leaves host names to the fetch, which resolves them', () => {
      expect(refusedUrlHost(new URL('https://localhost/jwks'), NO_OUTBOUND_EXCEPTIONS)).toBeNull();
      expect(refusedUrlHost(new URL('https://rp.example/jwks'), NO_OUTBOUND_EXCEPTIONS)).toBeNull();
    });

    it('follows the allow-list', () => {
      const allow = parseOutboundAllowList('127.0.0.1');
      expect(refusedUrlHost(new URL('https://127.0.0.1:8443/jwks'), allow)).toBeNull();
    });
  });
});
