import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type JWK } from 'jose';
import {
  type ArchiveManifest,
  ArchiveError,
  archiveFileName,
  manifestFileName,
  sha256Hex,
  type SignedManifestFile,
  verifyArchiveContent,
  verifyManifest,
} from './archive-format.js';
import { writeFileAtomically } from '../atomic-file.js';
import { type ChainedEvent } from '../hash-chain.js';

/**
 * The archive file first, then its manifest (one line of JSON): a manifest on disk always has its
 * file.
 */
export async function writeArchive(dir: string, file: Buffer, signed: SignedManifestFile): Promise<void> {
  await writeFileAtomically(dir, archiveFileName(signed.manifest.archiveId), file);
  await writeFileAtomically(
    dir,
    manifestFileName(signed.manifest.archiveId),
    Buffer.from(JSON.stringify(signed) + '\n', 'utf8'),
  );
}

async function readSigned(dir: string, name: string): Promise<SignedManifestFile> {
  try {
    return JSON.parse(await readFile(join(dir, name), 'utf8')) as SignedManifestFile;
  } catch (err) {
    throw new ArchiveError(
      name.replace(/\.manifest\.json$/, ''),
      `manifest unreadable: ${(err as Error).message}`,
    );
  }
}

/** The verified manifest of one archive (signature only; the file is not read). */
export async function readManifest(
  dir: string,
  archiveId: string,
  trusted: readonly JWK[],
): Promise<ArchiveManifest> {
  const manifest = await verifyManifest(await readSigned(dir, manifestFileName(archiveId)), trusted);
  if (manifest.archiveId !== archiveId) {
    throw new ArchiveError(archiveId, `its manifest names archive ${manifest.archiveId}`);
  }
  return manifest;
}

/** Every manifest in `dir`, each verified (signature only), ordered by first position. */
export async function readManifests(dir: string, trusted: readonly JWK[]): Promise<ArchiveManifest[]> {
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch (err) {
    throw new ArchiveError('-', `archive directory ${dir} unreadable: ${(err as Error).message}`);
  }
  const names = entries.filter((n) => n.endsWith('.manifest.json')).sort();
  const manifests: ArchiveManifest[] = [];
  for (const name of names) manifests.push(await verifyManifest(await readSigned(dir, name), trusted));
  return manifests.sort((a, b) => a.firstPosition - b.firstPosition);
}

/** The archive file as on disk is the one its (verified) manifest's checksum names. */
export async function checkArchiveChecksum(dir: string, manifest: ArchiveManifest): Promise<void> {
  if (sha256Hex(await readArchiveFile(dir, manifest)) !== manifest.sha256) {
    throw new ArchiveError(manifest.archiveId, 'file checksum differs from the manifest');
  }
}

async function readArchiveFile(dir: string, manifest: ArchiveManifest): Promise<Buffer> {
  try {
    return await readFile(join(dir, archiveFileName(manifest.archiveId)));
  } catch {
    throw new ArchiveError(manifest.archiveId, `file ${archiveFileName(manifest.archiveId)} is missing`);
  }
}

/** One archive read and checked whole: signature, checksum, every event's hash. */
export async function readVerifiedArchive(dir: string, manifest: ArchiveManifest): Promise<ChainedEvent[]> {
  return verifyArchiveContent(manifest, await readArchiveFile(dir, manifest));
}
