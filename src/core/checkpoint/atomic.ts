// Crash-safe file and folder writes. A file is written to a temporary name in the same folder, flushed to disk
// and renamed over the target, so a reader sees the old file or the new one, never half of one. A folder is
// built under a temporary name beside its final one and renamed into place only once complete.
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { LlmLabError } from '../errors';

let counter = 0;

/** A name no other writer in this or another process uses at the same moment. */
export function tempSuffix(): string {
  return `${process.pid}-${Date.now().toString(36)}-${(counter++).toString(36)}`;
}

function ioError(what: string, target: string, e: unknown): LlmLabError {
  if (e instanceof LlmLabError) return e;
  const msg = e instanceof Error ? e.message : String(e);
  return new LlmLabError('io', `Could not ${what} ${target}: ${msg}. Check that the folder is writable and the disk has space.`);
}

/** Writes `chunks` to `file` atomically: temp file in the same folder, fsync, rename over the target. */
export async function writeFileAtomic(file: string, chunks: readonly (Buffer | string)[]): Promise<void> {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.tmp-${tempSuffix()}`);
  let handle: fsp.FileHandle | undefined;
  try {
    handle = await fsp.open(tmp, 'w');
    for (const chunk of chunks) await handle.write(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk);
    await handle.sync();
    await handle.close();
    handle = undefined;
    await fsp.rename(tmp, file);
    await syncDir(path.dirname(file));
  } catch (e) {
    await handle?.close().catch(() => undefined);
    await fsp.rm(tmp, { force: true }).catch(() => undefined);
    throw ioError('write', file, e);
  }
}

/** Writes pretty JSON atomically. */
export async function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  await writeFileAtomic(file, [JSON.stringify(value, null, 2) + '\n']);
}

/** Flushes a folder's entries (the renames in it) to disk; a no-op where the OS does not allow it. */
async function syncDir(dir: string): Promise<void> {
  let handle: fsp.FileHandle | undefined;
  try {
    handle = await fsp.open(dir, 'r');
    await handle.sync();
  } catch {
    // Some platforms cannot open or fsync a directory; the rename is still atomic there.
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

/** Copies into `tmp` what `dir` holds that `tmp` does not (a README, tokenizer files), so replacing keeps them. */
async function carryOthers(dir: string, tmp: string): Promise<void> {
  let names: string[];
  try {
    names = await fsp.readdir(dir);
  } catch {
    return; // no previous folder
  }
  const fresh = new Set(await fsp.readdir(tmp));
  for (const name of names) {
    if (!fresh.has(name)) await fsp.cp(path.join(dir, name), path.join(tmp, name), { recursive: true });
  }
}

/**
 * Builds the folder `dir` atomically: `fill` writes into a fresh temporary folder beside it, which then replaces
 * `dir`. If `fill` throws, the temporary folder is removed and `dir` is left as it was. Files of an existing
 * `dir` that the new contents do not replace are carried over; the old folder is moved aside and deleted only
 * after the new one is in place.
 */
export async function writeDirAtomic(dir: string, fill: (tmpDir: string) => Promise<void>): Promise<void> {
  const parent = path.dirname(dir);
  const base = path.basename(dir);
  const tmp = path.join(parent, `.${base}.tmp-${tempSuffix()}`);
  try {
    await fsp.mkdir(parent, { recursive: true });
    await fsp.mkdir(tmp);
  } catch (e) {
    throw ioError('create', tmp, e);
  }
  try {
    await fill(tmp);
    await carryOthers(dir, tmp);
  } catch (e) {
    await fsp.rm(tmp, { recursive: true, force: true }).catch(() => undefined);
    throw e;
  }
  const old = path.join(parent, `.${base}.old-${tempSuffix()}`);
  let movedOld = false;
  try {
    try {
      await fsp.rename(dir, old);
      movedOld = true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    await fsp.rename(tmp, dir);
    await syncDir(parent);
  } catch (e) {
    if (movedOld) await fsp.rename(old, dir).catch(() => undefined);
    await fsp.rm(tmp, { recursive: true, force: true }).catch(() => undefined);
    throw ioError('save', dir, e);
  }
  if (movedOld) await fsp.rm(old, { recursive: true, force: true }).catch(() => undefined);
}

/**
 * Removes leftovers of this module's interrupted folder writes in `dir`: `.NAME.tmp-PID-…` and `.NAME.old-PID-…`
 * entries exactly as writeDirAtomic names them, for a NAME that `ownName` accepts (e.g. step folders), and only
 * when process PID is this one or no longer runs. Anything else in the folder is left alone, whatever its name.
 */
export async function removeLeftovers(dir: string, ownName: (name: string) => boolean): Promise<void> {
  let names: string[];
  try {
    names = await fsp.readdir(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const m = /^\.(.+)\.(?:tmp|old)-(\d+)-[0-9a-z]+-[0-9a-z]+$/.exec(name);
    if (!m || !ownName(m[1])) continue;
    const pid = Number(m[2]);
    if (pid !== process.pid && processRuns(pid)) continue; // another process may be writing it right now
    await fsp.rm(path.join(dir, name), { recursive: true, force: true }).catch(() => undefined);
  }
}

function processRuns(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
