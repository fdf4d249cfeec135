import { OAuthError } from '#lib/oauth-errors';
import { NO_OUTBOUND_EXCEPTIONS } from '#lib/outbound-guard';
import { normalizeMetadata } from './client-metadata.js';
import { parseClientMetadataDocument } from './rfc7591.js';
import { checkSectorIdentifierUri, parseSectorIdentifierDocument } from './sector-identifier.js';

describe('sector_identifier_uri (OpenID Connect Core §8.1, Registration §5)', () => {
  const sector = 'https://sector.test/uris.json';
  const base = {
    client_name: 'RP',
    grant_types: ['authorization_code'],
    redirect_uris: ['https://a.test/cb', 'https://b.test/cb'],
    scope: 'openid',
    subject_type: 'pairwise',
    sector_identifier_uri: sector,
  };
  const outcome = (doc: Record<string, unknown>, listed?: string[]) => {
    try {
      normalizeMetadata(parseClientMetadataDocument({ ...base, ...doc }), {
        outboundAllow: NO_OUTBOUND_EXCEPTIONS,
        ...(listed === undefined ? {} : { sectorRedirectUris: listed }),
      });
      return 'accepted';
    } catch (err) {
      if (err instanceof OAuthError) return `${err.error}: ${err.description}`;
      throw err;
    }
  };

  it('a pairwise client on two hosts is accepted when the document lists every redirect URI', () => {
    expect(outcome({}, ['https://a.test/cb', 'https://b.test/cb', 'https://c.test/cb'])).toBe('accepted');
  });

  it.each([
    ['a redirect URI the document does not list', {}, ['https://a.test/cb'], /b\.test.*not listed/],
    ['no fetched document', {}, undefined, /not fetched/],
    ['an http URL', { sector_identifier_uri: 'http://sector.test/u.json' }, [], /https/],
    ['a loopback literal', { sector_identifier_uri: 'https://127.0.0.1/u.json' }, [], /special-purpose/],
    ['a private literal', { sector_identifier_uri: 'https://10.0.0.1/u.json' }, [], /special-purpose/],
    ['a fragment', { sector_identifier_uri: `${sector}#x` }, [], /fragment/],
    ['not a string', { sector_identifier_uri: 42 }, [], /URL/],
  ])('refuses %s with invalid_client_metadata', (_name, doc, listed, reason) => {
    const result = outcome(doc, listed);
    expect(result).toMatch(/^invalid_client_metadata: /);
    expect(result).toMatch(reason);
  });

  it('checkSectorIdentifierUri judges the URL before any fetch; an allow-listed literal passes', () => {
    expect(checkSectorIdentifierUri(sector, NO_OUTBOUND_EXCEPTIONS)).toBe(sector);
    expect(() => checkSectorIdentifierUri('https://[::1]/u', NO_OUTBOUND_EXCEPTIONS)).toThrow(OAuthError);
  });

  it.each([
    ['not JSON', '<html>', /not JSON/],
    ['an object', '{"redirect_uris":[]}', /array/],
    ['an array with a number', '["https://a.test/cb", 1]', /array/],
    [
      'over 1000 entries',
      JSON.stringify(Array.from({ length: 1001 }, (_, i) => `https://a.test/${i}`)),
      /array/,
    ],
  ])('the document refused when %s', (_name, body, reason) => {
    expect(() => parseSectorIdentifierDocument(body)).toThrow(reason);
  });

  it('the document: a JSON array of URIs', () => {
    expect(parseSectorIdentifierDocument('["https://a.test/cb"]')).toEqual(['https://a.test/cb']);
  });
});
