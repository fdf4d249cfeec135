import { OAuthError } from '#lib/oauth-errors';
import { parseFormEncoded, singleValued } from './parse-form.js';

const limits = { maxParameters: 100 };
const parse = (body: string) => singleValued(parseFormEncoded(body, limits));

function refusal(run: () => unknown): OAuthError {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(OAuthError);
    return err as OAuthError;
  }
  throw new Error('expected an OAuthError, but nothing was thrown');
}

function expectInvalidRequest(body: string, max = limits.maxParameters) {
  const err = refusal(() => singleValued(parseFormEncoded(body, { maxParameters: max })));
  expect({ error: err.error, status: err.status }).toEqual({ error: 'invalid_request', status: 400 });
}

describe('application/x-www-form-urlencoded parameters (RFC 6749 §3.2, Appendix B)', () => {
  it('decodes names and values', () => {
    expect(parse('grant_type=client_credentials&scope=read%20write')).toEqual({
      grant_type: 'client_credentials',
      scope: 'read write',
    });
  });

  it('decodes + as a space (Appendix B) and %2B as a plus', () => {
    expect(parse('scope=read+write&client_secret=a%2Bb')).toEqual({
      scope: 'read write',
      client_secret: 'a+b',
    });
  });

  it('decodes multi-byte UTF-8', () => {
    expect(parse('state=%E2%82%AC%F0%9F%98%80')).toEqual({ state: '€😀' });
  });

  it('keeps everything after the first = in the value', () => {
    expect(parse('state=a=b=c')).toEqual({ state: 'a=b=c' });
  });

  it('returns no parameters for an empty body', () => {
    expect(parseFormEncoded('', limits).size).toBe(0);
    expect(parse('')).toEqual({});
  });

  it('skips empty pairs from stray separators', () => {
    expect(parse('&grant_type=client_credentials&&')).toEqual({ grant_type: 'client_credentials' });
  });

  it('keeps every value of a repeated parameter in the multi-valued view', () => {
    expect(parseFormEncoded('resource=a&resource=b', limits).get('resource')).toEqual(['a', 'b']);
  });
});

describe('parameters sent without a value are omitted (RFC 6749 §3.1, §3.2; checklist TREQ-12)', () => {
  it.each(['scope=', 'scope'])('%s is treated as if scope were absent', (body) => {
    const params = parse(`grant_type=client_credentials&${body}`);
    expect(params).toEqual({ grant_type: 'client_credentials' });
    expect('scope' in params).toBe(false);
  });
});

describe('repeated parameters (RFC 6749 §3.2, §5.2; checklist TREQ-11)', () => {
  it.each([
    'grant_type=client_credentials&grant_type=client_credentials',
    'grant_type=client_credentials&grant_type=authorization_code',
    'scope=read&scope=write',
    'client_id=a&client_id=a',
    'token=x&token=',
    'scope=&scope=',
    'scope=read&scope',
    // The repetition is found after decoding the name.
    'scope=read&%73cope=write',
  ])('%s is invalid_request', (body) => {
    expectInvalidRequest(body);
  });

  it('names the repeated parameter in the description', () => {
    const err = refusal(() => parse('grant_type=a&grant_type=b'));
    expect(err.description).toBe('parameter included more than once: grant_type');
  });
});

describe('bracket parameter names (checklist INP-08)', () => {
  it.each([
    'grant_type[]=client_credentials',
    'code[a]=b',
    'scope[0]=read',
    'client_id[$ne]=x',
    'client_id%5B%24ne%5D=x',
    'a]=b',
  ])('%s is invalid_request, never an array or object value', (body) => {
    expectInvalidRequest(body);
  });

  it('allows brackets inside a value', () => {
    expect(parse('state=%5Ba%5D')).toEqual({ state: '[a]' });
  });
});

describe('broken percent-encoding and invalid UTF-8 (checklist INP-03, INP-04)', () => {
  it.each([
    ['a lone %', 'state=%'],
    ['a non-hex escape', 'state=%G1'],
    ['%ZZ in client_id', 'client_id=%ZZ'],
    ['a truncated escape', 'scope=%E0%A4%A'],
    ['a truncated UTF-8 sequence', 'scope=%E0%A4'],
    ['a stray continuation byte', 'state=%80'],
    ['%FF', 'state=%FF'],
    ['an overlong encoding %C0%AF', 'code_verifier=%C0%AF'],
    ['an encoded lone surrogate %ED%A0%80', 'state=%ED%A0%80'],
    ['broken encoding in a name', 'sta%Xte=1'],
  ])('%s is invalid_request', (_name, body) => {
    expectInvalidRequest(body);
  });

  it.each([
    ['a high surrogate', 'state=a\ud800b'],
    ['a low surrogate', 'state=\udc00'],
    ['a reversed pair', 'state=\udc00\ud800'],
    ['a lone surrogate in a name', '\ud800=x'],
  ])('refuses %s that arrived unencoded in the body string', (_name, body) => {
    expectInvalidRequest(body);
  });

  it('accepts a proper surrogate pair that arrived unencoded', () => {
    expect(parse('state=\ud83d\ude00')).toEqual({ state: '😀' });
  });
});

describe('NUL bytes (checklist INP-05)', () => {
  it.each([
    ['%00 in client_id', 'client_id=abc%00'],
    ['%00 alone in token', 'token=%00'],
    ['a raw NUL in state', 'state=a\u0000b'],
    ['%00 in a name', 'x%00=1'],
  ])('%s is invalid_request', (_name, body) => {
    expectInvalidRequest(body);
  });
});

describe('parameter count limit (checklist INP-11)', () => {
  const pairs = (n: number) => Array.from({ length: n }, (_, i) => `p${i}=v`).join('&');

  it('accepts exactly the limit', () => {
    expect(parseFormEncoded(pairs(10), { maxParameters: 10 }).size).toBe(10);
  });

  it('refuses one more than the limit', () => {
    expectInvalidRequest(pairs(11), 10);
  });

  it('refuses 10,000 a=b pairs before decoding any of them', () => {
    // The last pair is malformed: refusing on the count means it was never decoded.
    const err = refusal(() => parseFormEncoded(`${'a=b&'.repeat(9_999)}c=%`, { maxParameters: 100 }));
    expect({ error: err.error, status: err.status, description: err.description }).toEqual({
      error: 'invalid_request',
      status: 400,
      description: 'too many parameters',
    });
  });
});

describe('prototype-pollution names (checklist INP-09)', () => {
  it('keeps __proto__ and constructor as ordinary own parameters', () => {
    const params = parse('__proto__=1&constructor=2&grant_type=client_credentials');
    expect(Object.getPrototypeOf(params)).toBeNull();
    expect(Object.keys(params).sort()).toEqual(['__proto__', 'constructor', 'grant_type']);
    expect(params['__proto__']).toBe('1');
    expect(params['constructor']).toBe('2');
  });

  it('does not change Object.prototype', () => {
    const before = Object.getOwnPropertyNames(Object.prototype).sort();
    const toString = Object.prototype.toString;
    const params = parse('__proto__=polluted&toString=x&hasOwnProperty=y');
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(before);
    expect(Object.prototype.toString).toBe(toString);
    expect(params.toString).toBe('x');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('does not report inherited names as parameters', () => {
    const params = parse('grant_type=client_credentials');
    expect(params.toString).toBeUndefined();
    expect(params['client_id']).toBeUndefined();
  });

  it('refuses the bracket forms __proto__[admin] and constructor[prototype][x]', () => {
    expectInvalidRequest('__proto__[admin]=1');
    expectInvalidRequest('constructor[prototype][x]=1');
  });
});
