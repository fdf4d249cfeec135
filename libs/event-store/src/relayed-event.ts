import { type RecordedEvent } from './event-store.js';

/** What JetStreamRelay publishes of an event: its subject, its message body and the header. */

/** Header carrying the event's global position, read back to resume after a crash. */
export const EVENT_POSITION_HEADER = 'Event-Position';

/**
 * What a stream consumer receives of an event: the stored event's envelope, with the data and
 * metadata it may see. The hash-chain link (prevHash, hash) is not part of it.
 */
export type PublishedEvent = Omit<RecordedEvent, 'prevHash' | 'hash'>;

/**
 * The published form of a stored event. Message bodies leave the system: this function decides
 * what of an event does (for the services, the contract in libs/contracts `publishedForm`).
 */
export type PublishedForm = (event: RecordedEvent) => PublishedEvent;

/**
 * The category of a stream: its id up to the first '-' (`client-7f3a…` → `client`), or the whole id
 * when it has none. Characters a NATS subject token cannot hold ('.', '*', '>', whitespace) become '_'.
 */
export function categoryOf(streamId: string): string {
  const dash = streamId.indexOf('-');
  return subjectToken(dash < 0 ? streamId : streamId.slice(0, dash));
}

/** `${subjectPrefix}.events.<category>.<type>`, e.g. `authz.events.client.ClientRegistered`. */
export function eventSubject(subjectPrefix: string, event: Pick<RecordedEvent, 'streamId' | 'type'>): string {
  return `${subjectPrefix}.events.${categoryOf(event.streamId)}.${subjectToken(event.type)}`;
}

/** The message body: the published event as JSON, recordedAt as an ISO 8601 string. */
export function encodeRelayedEvent(event: PublishedEvent): string {
  return JSON.stringify({
    globalPosition: event.globalPosition,
    eventId: event.eventId,
    streamId: event.streamId,
    streamVersion: event.streamVersion,
    type: event.type,
    schemaVersion: event.schemaVersion,
    data: event.data,
    metadata: event.metadata,
    recordedAt: event.recordedAt.toISOString(),
  });
}

/**
 * Reads a relayed message body back (for ProjectionRunner.handleEvents): a projection fed from the
 * stream folds published forms, so it may read only what they hold.
 */
export function decodeRelayedEvent(body: string | Uint8Array): PublishedEvent {
  const text = typeof body === 'string' ? body : utf8.decode(body);
  const parsed = JSON.parse(text) as Omit<PublishedEvent, 'recordedAt'> & { recordedAt: string | Date };
  parsed.recordedAt = new Date(parsed.recordedAt);
  return parsed as PublishedEvent;
}

const utf8 = new TextDecoder();

function subjectToken(text: string): string {
  return text.length === 0 ? '_' : text.replace(/[.*>\s]/g, '_');
}
