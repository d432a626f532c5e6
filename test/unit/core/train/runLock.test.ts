// The run folder's lock, held by real processes: a live holder in another process refuses a second one and is
// named (pid, start time); a holder killed with SIGKILL, a pid now used by another process, and a process that
// exits without releasing all leave a folder the next run can take; a release never removes another's lock.
import * as assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { spawn, spawnSync } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LlmLabError } from '../../../../src/core/errors';
import { LOCK_FILE, lockRunFolder, processStartTime } from '../../../../src/core/train/runLock';

const lockModule = path.resolve(__dirname, '../../../../src/core/train/runLock.js');

/** A second process that takes the lock of `dir`, says 'locked' and then waits (or exits at once with `exit`). */
function holder(dir: string, then: 'wait' | 'exit'): Promise<ChildProcess> {
  const code = `require(${JSON.stringify(lockModule)}).lockRunFolder(${JSON.stringify(dir)}).then(() => {
    process.stdout.write('locked\\n');
    ${then === 'exit' ? 'process.exit(0);' : 'setInterval(() => {}, 1000);'}
  }, (e) => { process.stdout.write('failed ' + e.message + '\\n'); process.exit(3); });`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (b: Buffer) => {
      out += b;
      if (out.includes('locked')) resolve(child);
      if (out.includes('failed')) reject(new Error(out));
    });
    child.on('error', reject);
  });
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((resolve) => child.once('exit', () => resolve()));
}

async function refusal(p: Promise<unknown>): Promise<LlmLabError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof LlmLabError, `expected an LlmLabError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected the lock to be refused');
}

describe('run folder lock', function () {
  this.timeout(60_000);
  let dir: string;
  const children: ChildProcess[] = [];

  beforeEach(async () => {
    dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'llm-lab-lock-'));
  });
  afterEach(async () => {
    for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await fsp.rm(dir, { recursive: true, force: true });
  });

  it('refuses a folder another live process holds, naming its pid and start, and leaves its lock alone', async () => {
    const other = await holder(dir, 'wait');
    children.push(other);
    const before = await fsp.readFile(path.join(dir, LOCK_FILE), 'utf8');
    const e = await refusal(lockRunFolder(dir));
    assert.equal(e.code, 'busy');
    const started = (JSON.parse(before) as { startedAt: string }).startedAt;
    assert.ok(e.message.startsWith(`LLM Lab is already training in ${dir} (pid ${other.pid}, started ${started})`), e.message);
    assert.equal(await fsp.readFile(path.join(dir, LOCK_FILE), 'utf8'), before);
  });

  it('takes over the lock of a process killed with SIGKILL', async () => {
    const other = await holder(dir, 'wait');
    children.push(other);
    other.kill('SIGKILL');
    await exited(other);
    assert.match(await fsp.readFile(path.join(dir, LOCK_FILE), 'utf8'), new RegExp(`"pid":${other.pid}`), 'a killed process leaves its lock');
    const lock = await lockRunFolder(dir);
    assert.match(await fsp.readFile(path.join(dir, LOCK_FILE), 'utf8'), new RegExp(`"pid":${process.pid}`));
    await lock.release();
    assert.deepEqual(await fsp.readdir(dir), []);
  });

  it('takes over a lock whose pid now belongs to another process (a reused pid)', async function () {
    if (processStartTime(process.pid) === undefined) this.skip(); // process start times are read from Linux's /proc
    const other = await holder(dir, 'wait');
    children.push(other);
    // The same pid, alive, but with another start time: the process that wrote it is gone.
    const file = path.join(dir, LOCK_FILE);
    const saved = JSON.parse(await fsp.readFile(file, 'utf8')) as { processStart: string };
    assert.equal(saved.processStart, processStartTime(other.pid!));
    await fsp.writeFile(file, JSON.stringify({ ...saved, processStart: String(Number(saved.processStart) - 1) }));
    const lock = await lockRunFolder(dir);
    await lock.release();
  });

  it('is removed when a process exits without releasing it', async () => {
    const other = await holder(dir, 'exit');
    await exited(other);
    assert.deepEqual(await fsp.readdir(dir), []);
  });

  it('refuses a lock from another host, saying which file to delete if that run has ended', async () => {
    const file = path.join(dir, LOCK_FILE);
    await fsp.writeFile(file, JSON.stringify({ pid: 1, host: `not-${os.hostname()}`, startedAt: '2026-11-30T10:00:00.000Z', token: 't' }));
    const e = await refusal(lockRunFolder(dir));
    assert.match(e.message, new RegExp(`pid 1 on not-.*started 2026-11-30T10:00:00.000Z.*delete ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  });

  it('refuses a second lock in the same process and releases only its own lock', async () => {
    const lock = await lockRunFolder(dir);
    assert.equal((await refusal(lockRunFolder(dir))).code, 'busy');
    await lock.release();
    const second = await lockRunFolder(dir);
    await lock.release(); // a stale handle must not remove the new holder's lock
    assert.ok((await fsp.readdir(dir)).includes(LOCK_FILE));
    await second.release();
    assert.deepEqual(await fsp.readdir(dir), []);
  });

  it('takes an empty lock file left long ago by a process killed while writing it', async () => {
    const file = path.join(dir, LOCK_FILE);
    await fsp.writeFile(file, '');
    const old = new Date(Date.now() - 60_000);
    await fsp.utimes(file, old, old);
    const lock = await lockRunFolder(dir);
    await lock.release();
  });

  it('never lets two processes racing for a stale lock both hold it', async () => {
    // A dead holder (a process that has exited), then four processes at once.
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    const deadPid = Number(dead.stdout);
    await fsp.writeFile(path.join(dir, LOCK_FILE), JSON.stringify({ pid: deadPid, host: os.hostname(), startedAt: 'then', token: 'dead' }));
    const racers = [1, 2, 3, 4].map(() => {
      const code = `require(${JSON.stringify(lockModule)}).lockRunFolder(${JSON.stringify(dir)}).then(
        () => { process.stdout.write('won'); setTimeout(() => process.exit(0), 5000); },
        (e) => { process.stdout.write(e.code); process.exit(0); });`;
      const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
      children.push(child);
      let out = '';
      child.stdout!.on('data', (b: Buffer) => void (out += b));
      return new Promise<string>((resolve) => child.on('exit', () => resolve(out)));
    });
    const results = await Promise.all(racers);
    assert.equal(results.filter((r) => r === 'won').length, 1, results.join(', '));
    assert.equal(results.filter((r) => r === 'busy').length, 3, results.join(', '));
  });
});
