import type { SigningKeyView } from '#lib/contracts';
import { formatKeyTable } from './keys.command.js';

const key = (kid: string, over: Partial<SigningKeyView>): SigningKeyView => ({
  kid,
  alg: 'ES256',
  status: 'active',
  generatedAt: '2030-01-01T00:00:00.000Z',
  activatesAt: '2030-01-01T00:00:00.000Z',
  activatedAt: '2030-01-01T00:00:00.000Z',
  retiredAt: null,
  publishUntil: null,
  inJwks: true,
  ...over,
});

describe('keys list output', () => {
  it('one aligned row per key: kid, alg, status, JWKS and the dates, "-" for a date not reached', () => {
    const table = formatKeyTable([
      key('old-kid', {
        status: 'retired',
        retiredAt: '2030-01-31T00:00:00.000Z',
        publishUntil: '2030-02-01T00:00:30.000Z',
        inJwks: false,
      }),
      key('k2', {
        alg: 'RS256',
        status: 'published',
        activatedAt: null,
        activatesAt: '2030-01-31T00:10:00.000Z',
      }),
    ]);
    const [header, retired, published] = table.split('\n');
    expect(header).toMatch(
      /^KID\s+ALG\s+STATUS\s+JWKS\s+GENERATED\s+ACTIVATES\s+ACTIVATED\s+RETIRED\s+PUBLISHED UNTIL$/,
    );
    expect(retired!.split(/\s+/)).toEqual([
      'old-kid',
      'ES256',
      'retired',
      'no',
      '2030-01-01T00:00:00.000Z',
      '2030-01-01T00:00:00.000Z',
      '2030-01-01T00:00:00.000Z',
      '2030-01-31T00:00:00.000Z',
      '2030-02-01T00:00:30.000Z',
    ]);
    expect(published!.split(/\s+/)).toEqual([
      'k2',
      'RS256',
      'published',
      'yes',
      '2030-01-01T00:00:00.000Z',
      '2030-01-31T00:10:00.000Z',
      '-',
      '-',
      '-',
    ]);
    expect(header!.indexOf('ALG')).toBe(retired!.indexOf('ES256'));
    expect(header!.indexOf('ALG')).toBe(published!.indexOf('RS256'));
  });
});
