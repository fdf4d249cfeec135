import { OAuthError } from '#lib/oauth-errors';
import { parseInstant } from './parse-instant.js';

describe('parseInstant: ISO 8601 instants in audit requests', () => {
  it('reads a date and time, with a zone or an offset', () => {
    expect(parseInstant('2026-11-25T17:00:00Z', 'from')?.toISOString()).toBe('2026-11-25T17:00:00.000Z');
    expect(parseInstant('2026-11-25T18:00:00.5+01:00', 'from')?.toISOString()).toBe(
      '2026-11-25T17:00:00.500Z',
    );
  });

  it('leaves an absent parameter undefined', () => {
    expect(parseInstant(undefined, 'to')).toBeUndefined();
  });

  it.each(['2026-11-25', '1764090000000', 'yesterday', '2026-13-45T00:00:00Z', ''])(
    'refuses %p with invalid_request naming the parameter',
    (text) => {
      let thrown: unknown;
      try {
        parseInstant(text, 'as_of');
      } catch (err) {
        thrown = err;
      }
      expect(thrown).toBeInstanceOf(OAuthError);
      expect((thrown as OAuthError).error).toBe('invalid_request');
      expect((thrown as OAuthError).description).toBe('as_of must be an ISO 8601 instant');
    },
  );
});
