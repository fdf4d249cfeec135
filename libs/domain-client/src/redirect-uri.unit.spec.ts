import { checkRedirectUri, matchRedirectUri } from './redirect-uri.js';

const code = (uri: string, isPublic = false): string | undefined => {
  try {
    checkRedirectUri(uri, { isPublic });
    return undefined;
  } catch (err) {
    return (err as { error: string }).error;
  }
};

describe('redirect URI registration (RFC 6749 §3.1.2, RFC 8252, RFC 9700 §2.6; checklist REG-03 to REG-09)', () => {
  it.each([
    ['a fragment (REG-03)', 'https://c.test/cb#f'],
    ['an empty fragment (REG-03)', 'https://c.test/cb#'],
    ['a relative URI (REG-04)', '/cb'],
    ['a network-path reference (REG-04)', '//c.test/cb'],
    ['no scheme (REG-04)', 'c.test/cb'],
    ['http on a host name (REG-05)', 'http://c.test/cb'],
    ['http on localhost (decision 15: IP literals only)', 'http://localhost/cb'],
    ['javascript: (REG-06)', 'javascript:alert(1)'],
    ['data: (REG-06)', 'data:text/html,x'],
    ['file: (REG-06)', 'file:///etc/passwd'],
    ['vbscript: (REG-06)', 'vbscript:x'],
    ['a wildcard host (REG-08)', 'https://*.c.test/cb'],
    ['a wildcard path (REG-08)', 'https://c.test/*'],
    ['userinfo (REG-09)', 'https://u:p@c.test/cb'],
    ['a user alone (REG-09)', 'https://u@c.test/cb'],
    ['a space', 'https://c.test/c b'],
    ['a non-ASCII host', 'https://c.tеst/cb'],
    ['an empty string', ''],
    ['an https URI with no host', 'https:///cb'],
    ['an upper-case HTTP scheme on a host', 'HTTP://c.test/cb'],
  ])('refuses %s with invalid_redirect_uri', (_name, uri) => {
    expect(code(uri)).toBe('invalid_redirect_uri');
    expect(code(uri, true)).toBe('invalid_redirect_uri');
  });

  it('refuses a private-use scheme without a period, even for a public client (REG-07)', () => {
    expect(code('myapp:/cb', true)).toBe('invalid_redirect_uri');
  });

  it('accepts a reverse-domain private-use scheme for a native public client (REG-07, RFC 8252 §7.1)', () => {
    expect(code('com.example.app:/cb', true)).toBeUndefined();
  });

  it('refuses a private-use scheme for a confidential client', () => {
    expect(code('com.example.app:/cb', false)).toBe('invalid_redirect_uri');
  });

  it.each([
    'https://c.test/cb',
    'https://c.test/cb?tenant=a',
    'https://c.test:8443/cb',
    'http://127.0.0.1/cb',
    'http://127.0.0.1:51004/cb',
    'http://[::1]/cb',
    'https://C.TEST/CB',
  ])('accepts %s', (uri) => {
    expect(code(uri)).toBeUndefined();
  });

  it('refuses a URI longer than 2000 characters', () => {
    expect(code(`https://c.test/${'a'.repeat(2000)}`)).toBe('invalid_redirect_uri');
  });
});

describe('redirect URI matching (RFC 9700 §4.1.3 simple string comparison; checklist AUTHZ-06, AUTHZ-11)', () => {
  const c1 = ['https://c1.test/cb'];

  it('accepts the registered URI byte for byte', () => {
    expect(matchRedirectUri(c1, 'https://c1.test/cb')).toBe('https://c1.test/cb');
  });

  it.each([
    'https://c1.test/cb/',
    'https://c1.test/CB',
    'https://C1.TEST/cb',
    'HTTPS://c1.test/cb',
    'https://c1.test:443/cb',
    'http://c1.test/cb',
    'https://c1.test/cb?x=1',
    'https://c1.test/cb#f',
    'https://c1.test/x/../cb',
    'https://c1.test/cb/%2E%2E/cb',
    'https://c1.test/c%62',
    'https://c1.test.attacker.test/cb',
    'https://c1.test@attacker.test/cb',
    'https://attacker.test/?https://c1.test/cb',
    'https://c1.test/cbx',
    '/cb',
    '//attacker.test/cb',
    'https://c1.test/cb%20',
    'https://c1.tеst/cb',
    'https://c1.test:8443/cb',
  ])('refuses the variant %s (AUTHZ-06, AUTHZ-12)', (presented) => {
    expect(matchRedirectUri(c1, presented)).toBeNull();
  });

  it('keeps a registered query and refuses another value (AUTHZ-07)', () => {
    const c4 = ['https://c4.test/cb?tenant=a'];
    expect(matchRedirectUri(c4, 'https://c4.test/cb?tenant=a')).toBe('https://c4.test/cb?tenant=a');
    expect(matchRedirectUri(c4, 'https://c4.test/cb?tenant=b')).toBeNull();
  });

  describe('loopback (RFC 8252 §7.3, AUTHZ-11)', () => {
    const n1 = ['http://127.0.0.1/cb'];

    it('lets the port of a loopback IP literal vary', () => {
      expect(matchRedirectUri(n1, 'http://127.0.0.1:51004/cb')).toBe('http://127.0.0.1:51004/cb');
    });

    it('but not the path', () => {
      expect(matchRedirectUri(n1, 'http://127.0.0.1:51004/other')).toBeNull();
    });

    it('refuses localhost and [::1] unless registered as such (decision 15)', () => {
      expect(matchRedirectUri(n1, 'http://localhost:51004/cb')).toBeNull();
      expect(matchRedirectUri(n1, 'http://[::1]:51004/cb')).toBeNull();
      expect(matchRedirectUri(['http://[::1]/cb'], 'http://[::1]:51004/cb')).toBe('http://[::1]:51004/cb');
    });

    it('does not vary the port of a non-loopback http or https URI', () => {
      expect(matchRedirectUri(['https://127.0.0.2/cb'], 'https://127.0.0.2:1/cb')).toBeNull();
    });
  });
});
