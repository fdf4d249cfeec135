import { type JWK } from 'jose';
import { type EventStore } from '../event-store.js';
import {
  type ArchivedChainLink,
  type ChainedEvent,
  type ChainReport,
  verifyStoredChain,
} from '../hash-chain.js';
import { type ArchiveManifest, ArchiveError } from './archive-format.js';
import { readManifests, readVerifiedArchive } from './archive-files.js';

/** Links of every archived event with a hash, keyed by prev_hash (ChainVerifierOptions.archived). */
export function archivedLinks(manifests: readonly ArchiveManifest[]): Map<string, ArchivedChainLink> {
  const links = new Map<string, ArchivedChainLink>();
  for (const m of manifests) {
    for (const e of m.events) {
      if (e.hash !== null && e.prevHash !== null)
        links.set(e.prevHash, { position: e.position, hash: e.hash });
    }
  }
  return links;
}

export interface ArchivedChainReport {
  chain: ChainReport;
  /** Archives whose manifests were used; with `content`, also checked whole. */
  archives: number;
  archivedEvents: number;
  /** The first archive found altered (content check only). */
  archiveProblem: { archiveId: string; position: number | null; message: string } | null;
}

/** The archives of a directory as verification uses them: their links, and the first problem found. */
export interface ArchivesForVerification {
  manifests: ArchiveManifest[];
  links: Map<string, ArchivedChainLink>;
  archivedEvents: number;
  archiveProblem: ArchivedChainReport['archiveProblem'];
}

/**
 * Reads every manifest of `archiveDir` (signature checked); with `content`, also every archive file
 * whole (checksum and every event's hash recomputed). A manifest that does not verify leaves no
 * links at all: every archived run then shows as removed.
 */
export async function readArchivesForVerification(
  archiveDir: string,
  verifyKeys: readonly JWK[],
  content: boolean,
): Promise<ArchivesForVerification> {
  let manifests: ArchiveManifest[];
  let archiveProblem: ArchivedChainReport['archiveProblem'] = null;
  const problem = (err: unknown) =>
    err instanceof ArchiveError
      ? { archiveId: err.archiveId, position: err.position ?? null, message: err.message }
      : { archiveId: 'unknown', position: null, message: (err as Error).message };
  try {
    manifests = await readManifests(archiveDir, verifyKeys);
  } catch (err) {
    manifests = [];
    archiveProblem = problem(err);
  }
  if (content && archiveProblem === null) {
    for (const manifest of manifests) {
      try {
        await readVerifiedArchive(archiveDir, manifest);
      } catch (err) {
        archiveProblem = problem(err);
        break;
      }
    }
  }
  return {
    manifests,
    links: archivedLinks(manifests),
    archivedEvents: manifests.reduce((n, m) => n + m.eventCount, 0),
    archiveProblem,
  };
}

/**
 * `audit verify` with archives: the live chain, where a run of missing events is accepted when the
 * verified manifests supply its links; with `content`, every archive file is also checked whole,
 * and the first one altered is named.
 */
export async function verifyChainWithArchives(
  store: Pick<EventStore, 'readAll'>,
  archiveDir: string,
  verifyKeys: readonly JWK[],
  content: boolean,
): Promise<ArchivedChainReport> {
  const archives = await readArchivesForVerification(archiveDir, verifyKeys, content);
  const chain = await verifyStoredChain(store, 1000, undefined, { archived: archives.links });
  return {
    chain,
    archives: archives.manifests.length,
    archivedEvents: archives.archivedEvents,
    archiveProblem: archives.archiveProblem,
  };
}

/**
 * An observer of the live chain (the checkpoint audit) that also sees the archived events, from
 * their manifest links, at their positions: a checkpoint signed before an archive run covers events
 * that are no longer live. A position that is live again (restored) is shown once, live.
 */
export function withArchivedEvents(
  observer: { push(event: ChainedEvent): void },
  links: ReadonlyMap<string, ArchivedChainLink>,
): { push(event: ChainedEvent): void } {
  const archived = [...links]
    .map(([prevHash, link]) => ({ prevHash, ...link }))
    .sort((a, b) => a.position - b.position);
  let next = 0;
  return {
    push(event: ChainedEvent): void {
      for (; next < archived.length && archived[next]!.position <= event.globalPosition; next++) {
        const a = archived[next]!;
        if (a.position === event.globalPosition) continue;
        observer.push({
          globalPosition: a.position,
          eventId: `archived at position ${a.position}`,
          streamId: '',
          streamVersion: 0,
          type: '',
          schemaVersion: 1,
          data: null,
          metadata: {},
          recordedAt: new Date(0),
          prevHash: a.prevHash,
          hash: a.hash,
        });
      }
      observer.push(event);
    },
  };
}
