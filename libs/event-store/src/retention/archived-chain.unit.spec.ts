import { verifyChain, type ChainedEvent } from '../hash-chain.js';
import { archivedLinks, withArchivedEvents } from './archived-chain.js';
import { type ArchiveManifest } from './archive-format.js';
import { chainedEvents } from '../testing/chained-events.js';

const chain = (n: number) => chainedEvents(n, (i) => ({ streamId: `s-${i}`, streamVersion: 1 }));

function manifest(events: readonly ChainedEvent[]): ArchiveManifest {
  return {
    format: 1,
    archiveId: 'a',
    createdAt: '2026-01-01T00:00:00.000Z',
    file: 'a.jsonl.gz',
    sha256: '',
    eventCount: events.length,
    firstPosition: events[0]?.globalPosition ?? 0,
    lastPosition: events.at(-1)?.globalPosition ?? 0,
    streams: [],
    events: events.map((e) => ({ position: e.globalPosition, prevHash: e.prevHash, hash: e.hash })),
  };
}

describe('chain verification across archived runs', () => {
  const all = chain(10);
  const archived = [all[0]!, all[3]!, all[4]!, all[8]!];
  const live = all.filter((e) => !archived.includes(e));

  it('RET-V01 accepts the missing runs (at the start, in the middle) exactly covered by archived links', () => {
    const report = verifyChain(live, { archived: archivedLinks([manifest(archived)]) });
    expect(report.break).toBeNull();
    expect(report.archived).toBe(4);
    expect(report.checked).toBe(6);
  });

  it('RET-V02 without the manifests the same gaps are reported as removals', () => {
    expect(verifyChain(live).break?.kind).toBe('removed');
  });

  it('RET-V03 a deletion the manifests do not cover is still reported, after the covered ones', () => {
    const deletedToo = live.filter((e) => e.globalPosition !== 7);
    const report = verifyChain(deletedToo, { archived: archivedLinks([manifest(archived)]) });
    expect(report.break).toMatchObject({ kind: 'removed', position: 8 });
  });

  it('RET-V04 links of positions outside the gap (listed but never archived there) bridge nothing', () => {
    const moved = manifest([all[3]!, all[4]!]);
    moved.events = moved.events.map((e) => ({ ...e, position: e.position + 100 }));
    const report = verifyChain(
      all.filter((e) => e !== all[3] && e !== all[4]),
      { archived: archivedLinks([moved]) },
    );
    expect(report.break).toMatchObject({ kind: 'removed', position: 6 });
  });
});

describe('the checkpoint audit sees archived events', () => {
  it('RET-V05 archived events are shown at their positions between live ones, a restored one once', () => {
    const all = chain(6);
    const archived = [all[1]!, all[2]!, all[4]!];
    const live = all.filter((e) => e !== all[1] && e !== all[2]);
    const seen: number[] = [];
    const observer = withArchivedEvents(
      { push: (e) => void seen.push(e.globalPosition) },
      archivedLinks([manifest(archived)]),
    );
    for (const e of live) observer.push(e);
    expect(seen).toEqual([1, 2, 3, 4, 5, 6]);
  });
});
