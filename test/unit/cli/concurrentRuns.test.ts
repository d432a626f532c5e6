// Two trainings of one run folder, as a user starts them: real `llm-lab pretrain` processes of the built binary.
// The second is refused in one line naming the first (pid, start) and changes nothing; Ctrl-C, SIGTERM, an error
// and a diverged run release the lock; a run killed with SIGKILL leaves a lock the next run takes over.
import * as assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { execFileSync, spawn } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const root = path.resolve(__dirname, '../../../..');
const cliJs = path.join(root, 'dist', 'cli.js');
/** A very small model, so that steps are quick on a loaded machine. */
const SMALL = ['--context', '8', '--width', '16', '--heads', '1', '--layers', '1', '--batch', '1', '--eval-every', '0', '--sample-every', '0'];

interface Running {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exit: Promise<number | null>;
}

function start(args: string[]): Running {
  const child = spawn(process.execPath, [cliJs, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (b: Buffer) => void (stdout += b));
  child.stderr!.on('data', (b: Buffer) => void (stderr += b));
  const exit = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, stdout: () => stdout, stderr: () => stderr, exit };
}

/** Resolves once the run has printed a step event (it holds the lock and trains). */
async function training(r: Running): Promise<void> {
  const t0 = Date.now();
  while (!r.stdout().includes('"type":"step"')) {
    if (r.child.exitCode !== null) assert.fail(`the run ended early: ${r.stderr()}`);
    if (Date.now() - t0 > 120_000) assert.fail('the run did not start a step within 2 minutes');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function run(args: string[]): Promise<{ code: number | null; stderr: string }> {
  const r = start(args);
  return { code: await r.exit, stderr: r.stderr() };
}

describe('two trainings of one run folder (built llm-lab binary)', function () {
  this.timeout(600_000);
  let tmp: string;
  let out: string;
  const children: ChildProcess[] = [];
  const args = (...more: string[]) => ['pretrain', '--data', 'samples/the-verdict.txt', '--out', out, ...SMALL, '--json', ...more];

  before(async () => {
    execFileSync(process.execPath, ['esbuild.mjs'], { cwd: root, stdio: 'pipe' });
    tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'llm-lab-concurrent-'));
    out = path.join(tmp, 'run');
  });
  after(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await fsp.rm(tmp, { recursive: true, force: true });
  });

  it('refuses a second training (fresh or resumed) while one runs, naming it, and changes nothing', async () => {
    const first = start(args('--steps', '100000', '--checkpoint-every', '2'));
    children.push(first.child);
    await training(first);
    const lock = JSON.parse(await fsp.readFile(path.join(out, 'run.lock'), 'utf8')) as { pid: number; startedAt: string };
    assert.equal(lock.pid, first.child.pid);
    const record = await fsp.readFile(path.join(out, 'run.json'), 'utf8');
    for (const second of [args('--steps', '50'), args('--steps', '100000', '--resume')]) {
      const r = await run(second);
      assert.equal(r.code, 1, r.stderr);
      const lines = r.stderr.trim().split('\n');
      assert.equal(lines.length, 1, r.stderr);
      assert.ok(lines[0].includes(`already training in ${out} (pid ${first.child.pid}, started ${lock.startedAt})`), lines[0]);
    }
    assert.equal(await fsp.readFile(path.join(out, 'run.json'), 'utf8'), record, 'the second run rewrote run.json');
    assert.equal(JSON.parse(await fsp.readFile(path.join(out, 'run.lock'), 'utf8')).pid, first.child.pid);
    first.child.kill('SIGINT');
    assert.equal(await first.exit, 130, first.stderr());
    assert.ok(!(await fsp.readdir(out)).includes('run.lock'), 'Ctrl-C left the lock behind');
  });

  it('takes over the lock of a run killed with SIGKILL, and SIGTERM releases it', async () => {
    const killed = start(args('--steps', '100000', '--resume'));
    children.push(killed.child);
    await training(killed);
    killed.child.kill('SIGKILL');
    await killed.exit;
    assert.equal(JSON.parse(await fsp.readFile(path.join(out, 'run.lock'), 'utf8')).pid, killed.child.pid, 'SIGKILL leaves the lock');
    const next = start(args('--steps', '100000', '--resume'));
    children.push(next.child);
    await training(next);
    assert.equal(JSON.parse(await fsp.readFile(path.join(out, 'run.lock'), 'utf8')).pid, next.child.pid);
    next.child.kill('SIGTERM');
    assert.equal(await next.exit, 130, next.stderr());
    assert.ok(!(await fsp.readdir(out)).includes('run.lock'), 'SIGTERM left the lock behind');
  });

  it('releases the lock when a run is refused or fails', async () => {
    const refused = await run(args('--steps', '100000', '--resume', '--lr', '0.5'));
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(refused.stderr, /Cannot resume .* with different settings/);
    assert.ok(!(await fsp.readdir(out)).includes('run.lock'));
    const diverged = path.join(tmp, 'diverged');
    const r = await run(['pretrain', '--data', 'samples/the-verdict.txt', '--out', diverged, '--steps', '40', '--lr', '9.9', '--grad-clip', '0', '--warmup', '0', '--sample-every', '0']);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /Training diverged at step/);
    assert.ok(!(await fsp.readdir(diverged)).includes('run.lock'));
  });
});
