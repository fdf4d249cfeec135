import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair } from 'jose';
import { readManifest, readVerifiedArchive, writeArchive } from './archive-files.js';
import { buildManifest, encodeArchive, manifestFileName, publicJwk, signManifest } from './archive-format.js';
import { chainedEvents } from '../testing/chained-events.js';

const chain = (n: number) => chainedEvents(n, (i) => ({ streamId: 's', streamVersion: i + 1 }));

describe('archive files on disk', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'archive-files-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('RET-M06 the manifest file is written compactly (one line) and reads back verified', async () => {
    const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
    const jwk = await exportJWK(privateKey);
    const events = chain(100);
    const file = encodeArchive(events);
    const signed = await signManifest(buildManifest('a', new Date(), events, file), jwk);
    await writeArchive(dir, file, signed);

    const text = await readFile(join(dir, manifestFileName('a')), 'utf8');
    expect(text).toBe(JSON.stringify(signed) + '\n');
    expect(text.indexOf('\n')).toBe(text.length - 1);
    const manifest = await readManifest(dir, 'a', [publicJwk(jwk)]);
    expect(manifest.events).toHaveLength(100);
    expect(await readVerifiedArchive(dir, manifest)).toEqual(events);
  });
});
