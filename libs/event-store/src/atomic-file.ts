import { randomBytes } from 'node:crypto';
import { open, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Writes `content` to `dir/name` whole or not at all: a temporary file of its own, fsync, rename,
 * fsync of the directory, so that after a crash the name holds the old content or the new, never
 * part of it.
 */
export async function writeFileAtomically(
  dir: string,
  name: string,
  content: Buffer | string,
  mode = 0o640,
): Promise<void> {
  const target = join(dir, name);
  const temp = join(dir, `.${name}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(temp, 'wx', mode);
  try {
    await handle.writeFile(content);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(temp, target);
  } catch (err) {
    await unlink(temp).catch(() => undefined);
    throw err;
  }
  const directory = await open(dir, 'r');
  try {
    await directory.sync();
  } finally {
    await directory.close();
  }
}
