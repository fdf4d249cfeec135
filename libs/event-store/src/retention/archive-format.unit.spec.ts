import { createHash } from 'node:crypto';
import { CompactSign, exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import { canonicalJson } from '../hash-chain.js';
import {
  ARCHIVE_FORMAT,
  type ArchiveManifest,
  buildManifest,
  encodeArchive,
  publicJwk,
  signManifest,
  type SignedManifestFile,
  verifyArchiveContent,
  verifyManifest,
} from './archive-format.js';
import { chainedEvents } from '../testing/chained-events.js';

const chain = (n: number) =>
  chainedEvents(n, (i) => ({ streamId: `s-${i % 3}`, streamVersion: Math.floor(i / 3) + 1 }));

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

/** The manifest file as read back from disk. */
const reread = (signed: SignedManifestFile) => JSON.parse(JSON.stringify(signed)) as SignedManifestFile;

const payloadOf = (jws: string) => Buffer.from(jws.split('.')[1]!, 'base64url').toString('utf8');

let privateKey: JWK;
let publicKey: JWK;
beforeAll(async () => {
  const pair = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  privateKey = await exportJWK(pair.privateKey);
  publicKey = publicJwk(privateKey);
});

async function archive(n: number) {
  const events = chain(n);
  const file = encodeArchive(events);
  const signed = await signManifest(
    buildManifest('a', new Date(Date.UTC(2026, 1, 1)), events, file),
    privateKey,
  );
  return { events, file, signed: reread(signed) };
}

/** Edits an attacker makes to the readable manifest, each one refused. */
const tamperings: [string, (m: ArchiveManifest) => void][] = [
  ['a hash changed', (m) => void (m.events[2]!.hash = 'f'.repeat(64))],
  ['a prevHash changed', (m) => void (m.events[2]!.prevHash = 'f'.repeat(64))],
  ['a position changed', (m) => void (m.events[2]!.position = 99)],
  [
    'a link added',
    (m) => void m.events.push({ position: 6, prevHash: 'a'.repeat(64), hash: 'b'.repeat(64) }),
  ],
  ['a link removed', (m) => void m.events.splice(1, 1)],
  ['two links swapped', (m) => void m.events.reverse()],
  ['a link given an extra field', (m) => void Object.assign(m.events[0]!, { note: 'x' })],
  ['the listing removed', (m) => void delete (m as Partial<ArchiveManifest>).events],
  ['the listing replaced by an object', (m) => void Object.assign(m, { events: {} })],
  [
    'a link changed and the readable digest recomputed',
    (m) => {
      m.events[0]!.hash = 'f'.repeat(64);
      m.eventsSha256 = sha256(canonicalJson(m.events));
    },
  ],
  ['the readable digest changed', (m) => void (m.eventsSha256 = '0'.repeat(64))],
  ['the readable digest removed', (m) => void delete m.eventsSha256],
  ['another field changed', (m) => void (m.lastPosition = 99)],
  ['a stream renamed', (m) => void (m.streams[0]!.streamId = 's-9')],
  ['a stream count changed', (m) => void (m.streams[1]!.count = 7)],
  ['a stream removed', (m) => void m.streams.pop()],
  ['the stream listing removed', (m) => void delete (m as Partial<ArchiveManifest>).streams],
  [
    'a stream renamed and the readable digest recomputed',
    (m) => {
      m.streams[0]!.streamId = 's-9';
      m.streamsSha256 = sha256(canonicalJson(m.streams));
    },
  ],
  ['the stream digest removed', (m) => void delete m.streamsSha256],
];

describe('manifest format 2: a signed digest of the link listing', () => {
  it('RET-M01 a format-2 manifest verifies and returns the links, which check the archive file', async () => {
    const { events, file, signed } = await archive(5);
    expect(ARCHIVE_FORMAT).toBe(2);
    const manifest = await verifyManifest(signed, [publicKey]);
    expect(manifest.format).toBe(2);
    expect(manifest.events).toEqual(
      events.map((e) => ({ position: e.globalPosition, prevHash: e.prevHash, hash: e.hash })),
    );
    expect(manifest.eventsSha256).toBe(sha256(canonicalJson(manifest.events)));
    expect(verifyArchiveContent(manifest, file)).toEqual(events);
  });

  describe('RET-M02 a readable manifest altered under its valid signature', () => {
    it.each(tamperings)('is refused: %s', async (_, tamper) => {
      const { signed } = await archive(5);
      tamper(signed.manifest);
      await expect(verifyManifest(signed, [publicKey])).rejects.toThrow(
        'archive a: the readable manifest differs from the signed one',
      );
    });
  });

  it('RET-M03 the signed payload holds the digests, not the listings: its size does not grow with the events or streams', async () => {
    const small = await archive(10);
    const large = await archive(1000);
    const payload = JSON.parse(payloadOf(large.signed.jws)) as Record<string, unknown>;
    expect(payload).not.toHaveProperty('events');
    expect(payload).not.toHaveProperty('streams');
    expect(payload.eventsSha256).toBe(sha256(canonicalJson(large.signed.manifest.events)));
    expect(payload.streamsSha256).toBe(sha256(canonicalJson(large.signed.manifest.streams)));
    // Only the counters and the last position gain digits.
    const grown = payloadOf(large.signed.jws).length - payloadOf(small.signed.jws).length;
    expect(grown).toBeGreaterThanOrEqual(0);
    expect(grown).toBeLessThanOrEqual(8);
    expect(canonicalJson(large.signed.manifest.events).length).toBeGreaterThan(150_000);
    expect(large.signed.jws.length).toBeLessThan(1000);
  });
});

describe('manifest format 1 (the whole manifest signed) is still read', () => {
  async function formatOne(n: number): Promise<{ file: Buffer; signed: SignedManifestFile }> {
    const events = chain(n);
    const file = encodeArchive(events);
    const {
      eventsSha256: _digest,
      streamsSha256: _streams,
      ...built
    } = buildManifest('a', new Date(Date.UTC(2025, 1, 1)), events, file);
    const manifest: ArchiveManifest = { ...built, format: 1 };
    const jws = await new CompactSign(new TextEncoder().encode(canonicalJson(manifest)))
      .setProtectedHeader({ alg: 'EdDSA', typ: 'retention-manifest+jws' })
      .sign(await importJWK(privateKey, 'EdDSA'));
    return { file, signed: reread({ manifest, jws }) };
  }

  it('RET-M04 a format-1 manifest verifies; its listing tampered with is refused', async () => {
    const { file, signed } = await formatOne(5);
    const manifest = await verifyManifest(signed, [publicKey]);
    expect(manifest).toEqual(signed.manifest);
    expect(manifest.format).toBe(1);
    expect(manifest.events).toHaveLength(5);
    expect(verifyArchiveContent(manifest, file)).toHaveLength(5);

    for (const tamper of tamperings.map(([, t]) => t)) {
      const copy = reread(signed);
      tamper(copy.manifest);
      if (canonicalJson(copy.manifest) === canonicalJson(signed.manifest)) continue;
      await expect(verifyManifest(copy, [publicKey])).rejects.toThrow(
        'the readable manifest differs from the signed one',
      );
    }
  });

  it('RET-M05 a manifest signed with a format this version does not know is refused', async () => {
    const { signed } = await archive(3);
    const manifest = { ...signed.manifest, format: 3 };
    const { events: _links, ...payload } = manifest;
    const jws = await new CompactSign(new TextEncoder().encode(canonicalJson(payload)))
      .setProtectedHeader({ alg: 'EdDSA', typ: 'retention-manifest+jws' })
      .sign(await importJWK(privateKey, 'EdDSA'));
    await expect(verifyManifest({ manifest, jws }, [publicKey])).rejects.toThrow('format 3');
  });
});
