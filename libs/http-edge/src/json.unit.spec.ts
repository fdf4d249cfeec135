import { jsonDepth, MAX_JSON_DEPTH, readJson } from './json.js';
import type { FastifyRequest } from 'fastify';

const request = (body: string, contentType = 'application/json') =>
  ({ headers: { 'content-type': contentType }, body }) as unknown as FastifyRequest;

const refusal = (body: string) => {
  try {
    readJson(request(body));
  } catch (err) {
    return err as { error: string; status: number; description?: string; error_description?: string };
  }
  throw new Error('accepted');
};

describe('readJson (RFC 7591 §3.1, checklist INP-07)', () => {
  it('measures nesting without recursion', () => {
    expect(jsonDepth('a')).toBe(0);
    expect(jsonDepth({})).toBe(1);
    expect(jsonDepth({ a: [1, { b: [] }] })).toBe(4);
    expect(jsonDepth(JSON.parse('['.repeat(100000) + ']'.repeat(100000)))).toBe(100000);
  });

  it('accepts a metadata document', () => {
    expect(readJson(request('{"client_name":"a","redirect_uris":["https://a.test/cb"]}'))).toEqual({
      client_name: 'a',
      redirect_uris: ['https://a.test/cb'],
    });
  });

  it(`accepts ${MAX_JSON_DEPTH} levels and refuses one more with invalid_request`, () => {
    const nested = (n: number) => '['.repeat(n) + ']'.repeat(n);
    expect(jsonDepth(readJson(request(nested(MAX_JSON_DEPTH))))).toBe(MAX_JSON_DEPTH);
    expect(refusal(nested(MAX_JSON_DEPTH + 1))).toMatchObject({ error: 'invalid_request', status: 400 });
  });

  it('INP-07: 10,000 levels of nesting are 400 invalid_request', () => {
    expect(refusal('['.repeat(10000) + ']'.repeat(10000))).toMatchObject({
      error: 'invalid_request',
      status: 400,
    });
    expect(refusal('{"a":'.repeat(10000) + '1' + '}'.repeat(10000))).toMatchObject({
      error: 'invalid_request',
      status: 400,
    });
  });

  it('INP-07: a NUL in a string or a key (Postgres refuses it in jsonb) is 400 invalid_request', () => {
    expect(refusal('{"client_name":"a\\u0000b"}')).toMatchObject({ error: 'invalid_request', status: 400 });
    expect(refusal('{"a\\u0000":1}')).toMatchObject({ error: 'invalid_request', status: 400 });
    expect(refusal('{"redirect_uris":["https://a.test/\\u0000"]}')).toMatchObject({
      error: 'invalid_request',
    });
  });

  it('an escaped lone surrogate in a string or a key (RFC 7493 §2.1; jsonb refuses it) is 400 invalid_request', () => {
    for (const s of ['\\ud800', '\\udbff', '\\udc00', '\\udfff', 'a\\ud83db', '\\ude00\\ud83d']) {
      expect(refusal(`{"client_name":"${s}"}`)).toMatchObject({ error: 'invalid_request', status: 400 });
      expect(refusal(`{"${s}":1}`)).toMatchObject({ error: 'invalid_request', status: 400 });
      expect(refusal(`{"a":[{"b":["${s}"]}]}`)).toMatchObject({ error: 'invalid_request', status: 400 });
    }
  });

  it('a surrogate pair, escaped or not, is a character like any other', () => {
    expect(readJson(request('{"client_name":"\\ud83d\\ude00 \u{1F600}"}'))).toEqual({
      client_name: '\u{1F600} \u{1F600}',
    });
  });

  it('INP-07: an unclosed document, and a wrong content type, are 400 invalid_request', () => {
    expect(refusal('{')).toMatchObject({ error: 'invalid_request', status: 400 });
    expect(() => readJson(request('{}', 'text/plain'))).toThrow(/application\/json/);
  });
});
