import { categoryOf, decodeRelayedEvent, encodeRelayedEvent, eventSubject } from './relayed-event.js';
import { type RecordedEvent } from './event-store.js';

describe('relayed event subjects', () => {
  it.each([
    ['client-7f3a-41c2', 'client'],
    ['grant-abc', 'grant'],
    ['signing', 'signing'],
    ['-leading', '_'],
    ['a.b*c>d e-x', 'a_b_c_d_e'],
  ])('puts stream %s in category %s (its id up to the first "-")', (streamId, category) => {
    expect(categoryOf(streamId)).toBe(category);
  });

  it('names the subject <prefix>.events.<category>.<type>', () => {
    expect(eventSubject('authz', { streamId: 'client-1', type: 'ClientRegistered' })).toBe(
      'authz.events.client.ClientRegistered',
    );
    expect(eventSubject('authz', { streamId: 'grant-1', type: 'Odd.Type' })).toBe(
      'authz.events.grant.Odd_Type',
    );
  });
});

describe('relayed event body', () => {
  const event: RecordedEvent = {
    globalPosition: 42,
    eventId: '0b7c1a52-6c1e-4d55-9f0e-9a8f2b1c3d4e',
    streamId: 'client-1',
    streamVersion: 3,
    type: 'ClientSecretRotated',
    schemaVersion: 2,
    data: { secretHash: 'sha256:abc' },
    metadata: { correlationId: 'c-1', actor: 'admin' },
    recordedAt: new Date('2025-06-01T12:00:00.123Z'),
  };

  it('is the published event as JSON with recordedAt in ISO 8601', () => {
    expect(JSON.parse(encodeRelayedEvent(event))).toEqual({
      ...event,
      recordedAt: '2025-06-01T12:00:00.123Z',
    });
  });

  it('never carries the hash-chain link of the stored row', () => {
    const chained = { ...event, prevHash: 'a'.repeat(64), hash: 'b'.repeat(64) };
    expect(Object.keys(JSON.parse(encodeRelayedEvent(chained)))).toEqual([
      'globalPosition',
      'eventId',
      'streamId',
      'streamVersion',
      'type',
      'schemaVersion',
      'data',
      'metadata',
      'recordedAt',
    ]);
  });

  it('decodes back to the same RecordedEvent, from text or bytes', () => {
    const body = encodeRelayedEvent(event);
    expect(decodeRelayedEvent(body)).toEqual(event);
    expect(decodeRelayedEvent(new TextEncoder().encode(body))).toEqual(event);
  });
});
