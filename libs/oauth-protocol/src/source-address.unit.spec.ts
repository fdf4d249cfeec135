import { sourceAddressKey } from './source-address.js';

describe('sourceAddressKey (checklist decision 13: limits per source address)', () => {
  it('counts an IPv4 address as itself, also when it arrives IPv4-mapped', () => {
    expect(sourceAddressKey('192.0.2.1')).toBe('192.0.2.1');
    expect(sourceAddressKey('::ffff:192.0.2.1')).toBe('192.0.2.1');
    expect(sourceAddressKey('192.0.2.2')).not.toBe(sourceAddressKey('192.0.2.1'));
  });

  it('counts an IPv6 address as its /64 (RFC 6177 §2: an end site has at least a /64)', () => {
    expect(sourceAddressKey('2001:db8:1:2:3:4:5:6')).toBe('2001:db8:1:2::/64');
    expect(sourceAddressKey('2001:db8:1:2:ffff::1')).toBe('2001:db8:1:2::/64');
    expect(sourceAddressKey('2001:DB8:1:2::9')).toBe('2001:db8:1:2::/64');
    expect(sourceAddressKey('2001:db8:1:3::1')).not.toBe(sourceAddressKey('2001:db8:1:2::1'));
  });

  it('counts an absent or malformed address as one unknown source', () => {
    expect(sourceAddressKey(undefined)).toBe('unknown');
    expect(sourceAddressKey('not an address')).toBe('unknown');
    expect(sourceAddressKey('1.2.3.4, 5.6.7.8')).toBe('unknown');
  });
});
