import {
  InvalidEventData,
  UnstorableText,
  type EventMetadata,
  type ExpectedVersion,
  type NewEvent,
  type StreamExpectation,
} from './event-store.js';

/** A new event checked and serialised, as every store implementation writes it. */
export interface PreparedEvent {
  type: string;
  schemaVersion: number;
  /** `data` and `metadata` as Postgres jsonb would give them back. */
  data: unknown;
  metadata: EventMetadata;
  dataJson: string;
  metadataJson: string;
}

export interface PreparedAppend {
  streamId: string;
  expectedVersion: ExpectedVersion;
  events: PreparedEvent[];
}

/**
 * JSON text that jsonb refuses (Postgres docs §8.14: "\u0000 is disallowed ... as are Unicode
 * escapes for characters not available in the database encoding"): an escaped NUL, or an escaped
 * lone surrogate (JSON.stringify escapes unpaired surrogates, ES2019 well-formed stringify). The
 * leading group makes sure the backslash is not itself escaped.
 */
const refusedByJsonb = /(?:^|[^\\])(?:\\\\)*\\u(?:0000|d[89a-f][0-9a-f]{2})/i;
// eslint-disable-next-line no-control-regex
const refusedInText = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function checkText(streamId: string, what: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new InvalidEventData(streamId, `${what} must be a non-empty string`);
  }
  if (refusedInText.test(value)) {
    throw new UnstorableText(streamId, `${what} contains U+0000 or a lone surrogate, which Postgres refuses`);
  }
  return value;
}

function toJson(streamId: string, what: string, value: unknown): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch (err) {
    throw new InvalidEventData(streamId, `${what} is not JSON: ${(err as Error).message}`);
  }
  if (json === undefined) throw new InvalidEventData(streamId, `${what} is not JSON`);
  if (refusedByJsonb.test(json)) {
    throw new UnstorableText(streamId, `${what} contains U+0000 or a lone surrogate, which jsonb refuses`);
  }
  return json;
}

export function prepareAppend(
  streamId: string,
  expectedVersion: ExpectedVersion,
  events: readonly NewEvent[],
): PreparedAppend {
  const id = typeof streamId === 'string' ? streamId : String(streamId);
  checkText(id, 'stream id', streamId);
  if (expectedVersion !== 'any' && !(Number.isSafeInteger(expectedVersion) && expectedVersion >= 0)) {
    throw new InvalidEventData(id, `expected version must be 'any' or an integer >= 0`);
  }
  if (!Array.isArray(events) || events.length === 0) {
    throw new InvalidEventData(id, 'an append needs at least one event');
  }
  return {
    streamId,
    expectedVersion,
    events: events.map((e, i) => {
      const type = checkText(id, `event ${i} type`, e?.type);
      const schemaVersion = e.schemaVersion ?? 1;
      if (!Number.isSafeInteger(schemaVersion) || schemaVersion < 1 || schemaVersion > 2 ** 31 - 1) {
        throw new InvalidEventData(id, `event ${i} (${type}) schemaVersion must be a positive integer`);
      }
      const metadata = e.metadata ?? {};
      if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) {
        throw new InvalidEventData(id, `event ${i} (${type}) metadata must be an object`);
      }
      const dataJson = toJson(id, `event ${i} (${type}) data`, e.data);
      const metadataJson = toJson(id, `event ${i} (${type}) metadata`, metadata);
      return {
        type,
        schemaVersion,
        data: JSON.parse(dataJson) as unknown,
        metadata: JSON.parse(metadataJson) as EventMetadata,
        dataJson,
        metadataJson,
      };
    }),
  };
}

/** Preconditions checked like expected versions: a stream id and a version >= 0. */
export function prepareExpectations(expect: readonly StreamExpectation[] | undefined): StreamExpectation[] {
  return (expect ?? []).map((x) => {
    const id = typeof x?.streamId === 'string' ? x.streamId : String(x?.streamId);
    checkText(id, 'expected stream id', x?.streamId);
    if (!(Number.isSafeInteger(x.version) && x.version >= 0)) {
      throw new InvalidEventData(id, 'an expected stream version must be an integer >= 0');
    }
    return { streamId: x.streamId, version: x.version };
  });
}
