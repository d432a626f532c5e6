// The lock of a run folder: while a training run (pretraining or any fine-tuning task) writes a folder, the file
// `<run>/run.lock` names the process doing it (host, pid, the process's start time, when the run started).
// A second training of the same folder, from the CLI or the extension's worker, finds it and is refused before
// it touches anything. A lock whose process is gone (killed with SIGKILL, a crashed machine) is recognised and
// taken over: on the same host, the pid no longer runs, or it now belongs to another process (its start time
// differs: the pid was reused). A lock from another host cannot be checked and is left for the user to remove.
// The lock is released when the run ends (completed, cancelled, failed) and, as a last resort, on process exit.
import { readFileSync, rmdirSync, unlinkSync } from 'node:fs';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LOCK_FILE } from '../checkpoint/layout';
import { LlmLabError } from '../errors';

export { LOCK_FILE };

/** What a lock file says about the process that holds it. */
export interface LockHolder {
  pid: number;
  host: string;
  /** When the lock was taken (ISO time). */
  startedAt: string;
  /** The process's start time as the OS counts it (Linux: clock ticks after boot); tells a reused pid apart. */
  processStart?: string;
  /** Random token of this lock, so a release never removes a lock another process took since. */
  token: string;
}

/** A lock held by this process; release() is safe to call more than once. */
export interface RunLock {
  readonly dir: string;
  readonly file: string;
  release(): Promise<void>;
}

/** The start time of process `pid`, where the OS tells it (Linux /proc); undefined elsewhere or when it is gone. */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces and parentheses): field 3 onwards; starttime is field 22.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19];
  } catch {
    return undefined;
  }
}

/** Whether process `pid` exists on this machine (a process of another user counts). */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether the holder of a lock on this host still runs (the same process, not a later one with its pid). */
export function holderAlive(h: LockHolder): boolean {
  if (h.host !== os.hostname()) return true; // cannot be checked from here
  if (!processAlive(h.pid)) return false;
  const now = processStartTime(h.pid);
  return h.processStart === undefined || now === undefined || now === h.processStart;
}

/** Locks held by this process (file → token and whether taking it created the folder), removed on exit if a run could not release them. */
const held = new Map<string, { token: string; createdDir: boolean }>();
let exitHook = false;

function removeIfOurs(file: string, token: string, createdDir: boolean): void {
  try {
    if ((JSON.parse(readFileSync(file, 'utf8')) as LockHolder).token === token) unlinkSync(file);
    if (createdDir) rmdirSync(path.dirname(file)); // only when empty: a run that never started leaves nothing
  } catch {
    // gone already, not ours any more, or the folder holds the run
  }
}

function parseHolder(text: string): LockHolder | undefined {
  try {
    const h = JSON.parse(text) as LockHolder;
    if (typeof h.pid === 'number' && typeof h.host === 'string' && typeof h.token === 'string') return h;
  } catch {
    // not a lock LLM Lab wrote
  }
  return undefined;
}

function describe(h: LockHolder): string {
  const host = h.host === os.hostname() ? '' : ` on ${h.host}`;
  return `pid ${h.pid}${host}, started ${h.startedAt}`;
}

/** The error of a folder another training holds. */
function busy(dir: string, h: LockHolder): LlmLabError {
  const other = h.host !== os.hostname();
  return new LlmLabError(
    'busy',
    `LLM Lab is already training in ${dir} (${describe(h)}); wait for that run to end or stop it, or train into another folder.` +
      (other ? ` If that process has ended, delete ${path.join(dir, LOCK_FILE)}.` : ''),
  );
}

/** A lock file older than this that is empty or unreadable was left by a process killed while writing it. */
const UNREADABLE_STALE_MS = 10_000;

/**
 * Takes the lock of run folder `dir` (created if missing) for this process, or throws a 'busy' LlmLabError that
 * names the process holding it. A stale lock (its process is gone) is replaced.
 */
export async function lockRunFolder(dir: string): Promise<RunLock> {
  const file = path.join(dir, LOCK_FILE);
  const token = `${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
  const me: LockHolder = { pid: process.pid, host: os.hostname(), startedAt: new Date().toISOString(), processStart: processStartTime(process.pid), token };
  const createdDir = (await fsp.mkdir(dir, { recursive: true })) !== undefined;
  for (let attempt = 0; attempt < 20; attempt++) {
    try {
      const handle = await fsp.open(file, 'wx');
      try {
        await handle.writeFile(JSON.stringify(me) + '\n');
        await handle.sync();
      } finally {
        await handle.close();
      }
      held.set(file, { token, createdDir });
      if (!exitHook) {
        exitHook = true;
        process.on('exit', () => {
          for (const [f, h] of held) removeIfOurs(f, h.token, h.createdDir);
        });
      }
      return { dir, file, release: () => release(file, token) };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    // The lock exists: is its holder still there?
    let text: string;
    let ino: number;
    let ageMs: number;
    try {
      const handle = await fsp.open(file, 'r');
      try {
        const st = await handle.stat();
        ino = st.ino;
        ageMs = Date.now() - st.mtimeMs;
        text = await handle.readFile('utf8');
      } finally {
        await handle.close();
      }
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue; // released meanwhile
      throw e;
    }
    const holder = parseHolder(text);
    const mine = held.get(file)?.token;
    if (holder && holder.token !== mine && holderAlive(holder)) throw busy(dir, holder);
    if (holder && holder.token === mine) throw busy(dir, holder); // this process trains there already
    if (!holder && ageMs < UNREADABLE_STALE_MS) {
      await new Promise((r) => setTimeout(r, 200)); // being written just now
      continue;
    }
    // Stale. Only the process holding the takeover guard may remove it, after checking again that the lock is
    // still the stale one it judged: the lock's name is never vacant while another process could be judging it.
    // Compared by contents (a lock's token is unique) and inode, since a freed inode number is soon reused.
    if (await withGuard(dir, async () => {
      const st = await fsp.stat(file).catch(() => undefined);
      const again = await fsp.readFile(file, 'utf8').catch(() => undefined);
      if (st?.ino === ino && again === text) await fsp.rm(file, { force: true });
    })) continue;
    await new Promise((r) => setTimeout(r, 50 + Math.random() * 100)); // another process is taking it over
  }
  throw new LlmLabError('busy', `Could not take the lock ${file}: other processes keep changing it. Try again.`);
}

/** The lock of `dir` when this process holds it (taken by planRunStart for the run about to train). */
export function heldLock(dir: string): RunLock | undefined {
  const file = path.join(dir, LOCK_FILE);
  const token = held.get(file)?.token;
  return token === undefined ? undefined : { dir, file, release: () => release(file, token) };
}

/** A takeover guard older than this was left by a process that died during a takeover (which takes milliseconds). */
const GUARD_STALE_MS = 30_000;

/** Runs `f` holding `dir`'s takeover guard; false (without running it) when another process holds the guard. */
async function withGuard(dir: string, f: () => Promise<void>): Promise<boolean> {
  const guard = path.join(dir, `.${LOCK_FILE}.takeover`);
  let handle: fsp.FileHandle;
  try {
    handle = await fsp.open(guard, 'wx');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    const st = await fsp.stat(guard).catch(() => undefined);
    if (st && Date.now() - st.mtimeMs > GUARD_STALE_MS) await fsp.rm(guard, { force: true });
    return false;
  }
  try {
    await handle.close();
    await f();
  } finally {
    await fsp.rm(guard, { force: true });
  }
  return true;
}

/** Removes the lock if it is still this one; a folder that taking it created goes too when nothing else came in. */
async function release(file: string, token: string): Promise<void> {
  const h = held.get(file);
  if (h?.token !== token) return;
  held.delete(file);
  try {
    const holder = parseHolder(await fsp.readFile(file, 'utf8'));
    if (holder?.token === token) await fsp.rm(file, { force: true });
  } catch {
    // already gone
  }
  if (h.createdDir) await fsp.rmdir(path.dirname(file)).catch(() => undefined); // fails, as it should, unless empty
}

/** The holder of `dir`'s lock when a live process holds it (for a status display); undefined when free or stale. */
export async function runFolderHolder(dir: string): Promise<LockHolder | undefined> {
  try {
    const h = parseHolder(await fsp.readFile(path.join(dir, LOCK_FILE), 'utf8'));
    return h && holderAlive(h) ? h : undefined;
  } catch {
    return undefined;
  }
}
