// Starting and resuming a run of any task kind: a fresh start refuses a folder with checkpoints, a resume keeps
// the run's saved settings, takes only the settings a resume may change, refuses changed run-defining ones and a
// run of another kind.
import * as assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LlmLabError } from '../../../../src/core/errors';
import type { RunOptionsRule } from '../../../../src/core/train/runFolder';
import { planRunStart, pretrainRunRule, previewRunStart, RUN_FORMAT_VERSION, writeRunRecord } from '../../../../src/core/train/runFolder';

/** A fine-tuning task's resolved options, as a task other than pretraining would declare them. */
interface ToyOptions {
  steps: number;
  lr: number;
  labels: string[];
  evalEvery: number;
}

const saved: ToyOptions = { steps: 40, lr: 5e-5, labels: ['ham', 'spam'], evalEvery: 10 };

/** evalEvery and steps may change on resume; `explicit` names what the caller set. */
const rule = (explicit: (keyof ToyOptions)[]): RunOptionsRule<ToyOptions> => ({
  mutable: ['steps', 'evalEvery'],
  given: (k) => explicit.includes(k),
});

async function runFolder(kind: string, step: number): Promise<string> {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'llm-lab-runstart-'));
  await writeRunRecord(dir, {
    formatVersion: RUN_FORMAT_VERSION, kind, options: saved, dataFingerprint: 'x', backend: 'cpu', createdAt: 'then', updatedAt: 'then',
  });
  await fsp.mkdir(path.join(dir, 'checkpoints', `step-${String(step).padStart(6, '0')}`), { recursive: true });
  await fsp.writeFile(path.join(dir, 'checkpoints', `step-${String(step).padStart(6, '0')}`, 'model.safetensors'), '');
  await fsp.writeFile(path.join(dir, 'checkpoints', `step-${String(step).padStart(6, '0')}`, 'config.json'), '{}');
  return dir;
}

async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof LlmLabError, `expected an LlmLabError, got ${String(e)}`);
    return e.message;
  }
  assert.fail('expected a refusal');
}

describe('planRunStart for any task', () => {
  it('starts fresh in a folder that does not exist yet, with the given options', async () => {
    const dir = path.join(os.tmpdir(), `llm-lab-runstart-none-${process.pid}`);
    const given = { ...saved, lr: 1e-4 };
    const start = await planRunStart(dir, 'classify', false, given, rule(['lr']));
    assert.deepEqual(start.options, given);
    assert.equal(start.resumeFrom, undefined);
    await start.lock.release();
    await assert.rejects(fsp.stat(dir), 'a run that never started leaves no folder behind');
  });

  it('locks the folder for the run it plans, and only for it', async () => {
    const dir = await runFolder('classify', 8);
    const start = await planRunStart(dir, 'classify', true, saved, rule([]));
    assert.ok((await fsp.readdir(dir)).includes('run.lock'));
    const busy = await refusal(planRunStart(dir, 'classify', true, saved, rule([])));
    assert.match(busy, new RegExp(`already training in .* \\(pid ${process.pid}, started `));
    // A preview (a summary before starting) only reads.
    assert.equal((await previewRunStart(dir, 'classify', true, saved, rule([]))).resumeFrom?.step, 8);
    await start.lock.release();
    assert.ok(!(await fsp.readdir(dir)).includes('run.lock'));
    // A refused plan leaves no lock behind.
    await refusal(planRunStart(dir, 'classify', true, { ...saved, labels: ['x'] }, rule(['labels'])));
    assert.ok(!(await fsp.readdir(dir)).includes('run.lock'));
  });

  it('refuses a fresh start over a run that has checkpoints', async () => {
    const dir = await runFolder('classify', 8);
    assert.match(await refusal(planRunStart(dir, 'classify', false, saved, rule([]))), /already holds a training run \(checkpoint at step 8\).*--resume/);
  });

  it('resumes with the saved options, taking a changed step count but not a changed default', async () => {
    const dir = await runFolder('classify', 8);
    // The caller's resolved options differ in steps (given) and evalEvery (a default it did not set).
    const start = await planRunStart(dir, 'classify', true, { ...saved, steps: 60, evalEvery: 99 }, rule(['steps']));
    assert.deepEqual(start.options, { steps: 60, lr: 5e-5, labels: ['ham', 'spam'], evalEvery: 10 });
    assert.equal(start.resumeFrom?.step, 8);
    assert.equal(start.record?.createdAt, 'then');
    await start.lock.release();
  });

  it('refuses a resume that changes a run-defining setting, naming both values', async () => {
    const dir = await runFolder('classify', 8);
    const msg = await refusal(planRunStart(dir, 'classify', true, { ...saved, labels: ['a', 'b'] }, rule(['labels'])));
    assert.match(msg, /labels \(run: \["ham","spam"\], now: \["a","b"\]\)/);
  });

  it('ignores a run-defining setting that differs only by default', async () => {
    const dir = await runFolder('classify', 8);
    const start = await planRunStart(dir, 'classify', true, { ...saved, lr: 1 }, rule([]));
    assert.equal(start.options.lr, 5e-5);
    await start.lock.release();
  });

  it('refuses to resume a run of another kind', async () => {
    const dir = await runFolder('pretrain', 8);
    const msg = await refusal(planRunStart(dir, 'classify', true, saved, rule([])));
    assert.match(msg, /holds a pretraining run, not a classification fine-tuning run/);
  });

  it('refuses a resume already past the steps asked for', async () => {
    const dir = await runFolder('instruct', 50);
    assert.match(await refusal(planRunStart(dir, 'instruct', true, saved, rule([]))), /already at step 50, past the 40 steps/);
  });

  it("pretraining's rule treats a preset as giving the model", () => {
    const r = pretrainRunRule({ outDir: 'x', preset: 'small' });
    assert.equal(r.given('model'), true);
    assert.equal(r.given('lr'), false);
    assert.equal(pretrainRunRule({ outDir: 'x' }).given('model'), false);
    assert.ok(r.mutable.includes('steps') && !r.mutable.includes('lr'));
  });
});
