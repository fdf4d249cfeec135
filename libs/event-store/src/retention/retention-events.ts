/** Events of the `retention` stream: what retention removed from the log, and what it put back. */

export interface StreamsArchived {
  type: 'StreamsArchived';
  data: {
    archiveId: string;
    /** The archive file's name in RETENTION_ARCHIVE_DIR. */
    file: string;
    streams: number;
    events: number;
    firstPosition: number;
    lastPosition: number;
    /** SHA-256 (hex) of the archive file, as its signed manifest states it. */
    sha256: string;
  };
}

export interface StreamRestored {
  type: 'StreamRestored';
  data: {
    streamId: string;
    archives: string[];
    events: number;
    firstPosition: number;
    lastPosition: number;
  };
}

export type RetentionEvent = StreamsArchived | StreamRestored;

/**
 * Every event type of the `retention` stream (a Record over the union: a type added to the union
 * and not here does not compile; the published-events contract in libs/contracts is checked
 * against every `*_EVENT_TYPES` array).
 */
const retentionEventTypes: Record<RetentionEvent['type'], true> = {
  StreamsArchived: true,
  StreamRestored: true,
};
export const RETENTION_EVENT_TYPES = Object.keys(retentionEventTypes) as readonly RetentionEvent['type'][];
