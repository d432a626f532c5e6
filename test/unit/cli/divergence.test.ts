// Divergence by the loss's trend on real runs of the built `llm-lab pretrain`: the exploding run the audit found
// (`--lr 9.9 --grad-clip 0 --warmup 0`, 10.8 then thousands) stops with the 'diverged' message within a few
// steps; a noisy but healthy run (batch 1, a high learning rate) is left alone; and a run that improves and then
// blows up keeps its best checkpoint although it keeps only one.
import * as assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const root = path.resolve(__dirname, '../../../..');
const cliJs = path.join(root, 'dist', 'cli.js');
const SMALL = ['--context', '8', '--width', '16', '--heads', '1', '--layers', '1', '--batch', '1', '--sample-every', '0'];

interface Event {
  type: string;
  step: number;
  loss: number;
  valLoss: number;
}

async function pretrain(out: string, args: string[]): Promise<{ code: number | null; events: Event[]; stderr: string }> {
  const child = spawn(process.execPath, [cliJs, 'pretrain', '--data', 'samples/the-verdict.txt', '--out', out, '--json', ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => void (stdout += b));
  child.stderr.on('data', (b: Buffer) => void (stderr += b));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  const events = stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Event);
  return { code, events, stderr };
}

describe('divergence by the loss trend, on real runs (built llm-lab binary)', function () {
  this.timeout(600_000);
  let tmp: string;
  before(async () => {
    execFileSync(process.execPath, ['esbuild.mjs'], { cwd: root, stdio: 'pipe' });
    tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'llm-lab-diverge-'));
  });
  after(async () => {
    await fsp.rm(tmp, { recursive: true, force: true });
  });

  it('stops an exploding but finite loss with the diverged message', async () => {
    const r = await pretrain(path.join(tmp, 'explode'), ['--steps', '200', '--lr', '9.9', '--grad-clip', '0', '--warmup', '0', '--eval-every', '0', '--sample-every', '0']);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /^llm-lab: Training diverged at step \d+: the loss rose to \d+.* from 10\.8/m);
    const losses = r.events.filter((e) => e.type === 'step').map((e) => e.loss);
    assert.ok(losses.every(Number.isFinite), 'the loss stayed finite: only the trend can catch this run');
    assert.ok(losses.length <= 5, `it ran ${losses.length} steps before stopping`);
    assert.ok(Math.max(...losses) > 100, `losses ${losses.join(', ')}`);
    assert.equal(r.events.find((e) => e.type === 'done')?.step, losses.length);
  });

  it('leaves a noisy but healthy run alone', async () => {
    const r = await pretrain(path.join(tmp, 'noisy'), [...SMALL, '--steps', '200', '--lr', '1e-2', '--eval-every', '0', '--checkpoint-every', '0']);
    assert.equal(r.code, 0, r.stderr);
    const losses = r.events.filter((e) => e.type === 'step').map((e) => e.loss);
    assert.equal(losses.length, 200);
    const late = losses.slice(100);
    // The run really is noisy: single steps above twice the lowest loss of the run, the rule's own threshold.
    assert.ok(Math.max(...late) > 2 * Math.min(...losses), `max ${Math.max(...late)}, min ${Math.min(...losses)}`);
  });

  it('keeps the best checkpoint of a run that improves and then blows up, with --keep-checkpoints 1', async () => {
    const out = path.join(tmp, 'rise-and-fall');
    const r = await pretrain(out, [...SMALL, '--steps', '60', '--lr', '2', '--warmup', '30', '--grad-clip', '0', '--eval-every', '1', '--checkpoint-every', '1', '--keep-checkpoints', '1']);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /Training diverged at step/);
    const evals = r.events.filter((e) => e.type === 'eval');
    const best = evals.reduce((a, b) => (b.valLoss < a.valLoss ? b : a));
    const last = r.events.filter((e) => e.type === 'checkpoint').pop()!;
    assert.notEqual(best.step, last.step, 'this run was meant to get worse after its best step');
    const kept = await fsp.readdir(path.join(out, 'checkpoints'));
    const name = (step: number) => `step-${String(step).padStart(6, '0')}`;
    assert.deepEqual(kept.sort(), [name(best.step), name(last.step)].sort());
  });
});
