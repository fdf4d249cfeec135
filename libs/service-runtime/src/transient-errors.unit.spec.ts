import { InvalidEventData, UnstorableText } from '#lib/event-store';
import { OAuthError } from '#lib/oauth-errors';
import { asOAuthError } from './transient-errors.js';

describe('what a service answers for a failure that is not an OAuthError', () => {
  it("text the event store cannot keep (NUL, a lone surrogate) is the request's: 400 invalid_request", () => {
    const err = asOAuthError(
      new UnstorableText('client-x', 'event 0 (ClientRegistered) data contains a lone surrogate'),
    );
    expect(err).toBeInstanceOf(OAuthError);
    expect(err).toMatchObject({ error: 'invalid_request', status: 400 });
    expect((err as OAuthError).description).not.toContain('client-x');
  });

  it('any other invalid event stays a fault of the server (logged, server_error)', () => {
    const err = new InvalidEventData('client-x', 'an append needs at least one event');
    expect(asOAuthError(err)).toBe(err);
  });

  it('a dependency that is down is temporarily_unavailable', () => {
    const down = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    expect(asOAuthError(down)).toMatchObject({ error: 'temporarily_unavailable', status: 503 });
  });
});
