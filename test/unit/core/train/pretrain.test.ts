import * as assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { listCheckpoints, loadModel } from '../../../../src/core/checkpoint/modelFiles';
import { initEngine, tf } from '../../../../src/core/engine';
import { fusedOp, registerFusedOps } from '../../../../src/core/engine/fused';
import { portable } from '../../../../src/core/engine/ops';
import { LlmLabError } from '../../../../src/core/errors';
import type { TrainEvent } from '../../../../src/core/train/events';
import { readMetrics } from '../../../../src/core/train/events';
import { greedyContinue } from '../../../../src/core/train/monitor';
import type { PretrainOptions } from '../../../../src/core/train/options';
import { pretrain } from '../../../../src/core/train/pretrain';
import { registerGradients } from '../../../../src/core/engine/gradients';

/** 0 1 2 … 9 0 1 2 …: a sequence a small model learns in a few dozen steps. */
const tokens = Array.from({ length: 400 }, (_, i) => i % 10);
const small = { vocabSize: 16, contextLength: 8, embDim: 16, nHeads: 2, nLayers: 1, dropRate: 0 };

function opts(outDir: string, extra: Partial<PretrainOptions> = {}): PretrainOptions {
  return {
    outDir, tokens, preset: 'tiny', model: small, batchSize: 4, steps: 10, lr: 1e-2, warmupSteps: 2,
    evalEvery: 5, sampleEvery: 0, checkpointEvery: 0, seed: 1, ...extra,
  };
}

function collect(events: TrainEvent[]): (e: TrainEvent) => void {
  return (e) => events.push(e);
}

const stepLosses = (events: TrainEvent[]): number[] =>
  events.flatMap((e) => (e.type === 'step' ? [e.loss] : []));

async function expectError(p: Promise<unknown>, code: string, pattern: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof LlmLabError, String(e));
    assert.equal(e.code, code, e.message);
    assert.match(e.message, pattern);
    return true;
  });
}

describe('pretrain', function () {
  this.timeout(120_000);
  let root: string;
  before(async () => {
    await initEngine('cpu');
    assert.equal(registerGradients(), undefined);
  });
  beforeEach(async () => {
    root = await fsp.mkdtemp(path.join(os.tmpdir(), 'llmlab-train-'));
  });
  afterEach(async () => {
    await fsp.rm(root, { recursive: true, force: true });
  });

  it('drives the loss down on a repetitive sequence and leaves a loadable run folder', async () => {
    const out = path.join(root, 'run');
    const events: TrainEvent[] = [];
    const result = await pretrain(opts(out, { steps: 60, lr: 2e-2, sampleEvery: 30, sampleTokens: 6, checkpointEvery: 25 }), { onEvent: collect(events) });
    const losses = stepLosses(events);
    assert.equal(losses.length, 60);
    assert.ok(losses[0] > 2, `first loss ${losses[0]}`); // about ln 16
    assert.ok(result.lastLoss! < 0.5, `last loss ${result.lastLoss}`);
    assert.equal(result.status, 'completed');
    assert.equal(result.step, 60);
    assert.equal(result.tokensSeen, 60 * 4 * 8);
    const evals = events.filter((e) => e.type === 'eval');
    assert.deepEqual(evals.map((e) => e.step), [5, 10, 15, 20, 25, 30, 35, 40, 45, 50, 55, 60]);
    assert.ok(result.lastValLoss! < 0.5 && result.bestValLoss! <= result.lastValLoss!);
    assert.deepEqual(events.filter((e) => e.type === 'sample').map((e) => e.step), [30, 60]);
    assert.deepEqual(events.filter((e) => e.type === 'checkpoint').map((e) => e.step), [25, 50, 60]);
    const step = events.find((e) => e.type === 'step' && e.step === 60);
    assert.ok(step && step.type === 'step' && step.tokensPerSec > 0 && step.lr > 0 && step.gradNorm > 0);

    // run folder: run.json, metrics.jsonl mirroring the events, the 2 latest checkpoints
    const run = JSON.parse(await fsp.readFile(path.join(out, 'run.json'), 'utf8'));
    assert.equal(run.options.steps, 60);
    assert.equal(run.options.beta2, 0.999);
    assert.deepEqual((await readMetrics(out)).map((e) => e.type), events.map((e) => e.type));
    assert.deepEqual((await listCheckpoints(path.join(out, 'checkpoints'))).map((c) => c.step), [50, 60]);
    const { model, dir } = await loadModel(out);
    assert.equal(dir, result.checkpointDir);
    assert.deepEqual(await greedyContinue(model, [3, 4, 5, 6], 5), [7, 8, 9, 0, 1]);
    model.dispose();
  });

  it('resumed after a stop gives exactly the losses of an uninterrupted run (dropout and accumulation on)', async () => {
    const extra = { steps: 12, model: { ...small, dropRate: 0.1 }, gradAccumSteps: 2, evalEvery: 4 };
    const full: TrainEvent[] = [];
    await pretrain(opts(path.join(root, 'a'), extra), { onEvent: collect(full) });

    const out = path.join(root, 'b');
    const first: TrainEvent[] = [];
    const stop = new AbortController();
    const r1 = await pretrain(opts(out, extra), {
      signal: stop.signal,
      onEvent: (e) => {
        first.push(e);
        if (e.type === 'step' && e.step === 5) stop.abort();
      },
    });
    assert.equal(r1.status, 'cancelled');
    assert.equal(r1.step, 5);
    const second: TrainEvent[] = [];
    const r2 = await pretrain({ outDir: out, tokens, resume: true }, { onEvent: collect(second) });
    assert.equal(r2.status, 'completed');
    assert.equal(r2.step, 12);
    assert.deepEqual([...stepLosses(first), ...stepLosses(second)], stepLosses(full));
    const vals = (evs: TrainEvent[]): number[] => evs.flatMap((e) => (e.type === 'eval' ? [e.valLoss] : []));
    assert.deepEqual([...vals(first), ...vals(second)], vals(full));
    const start = second.find((e) => e.type === 'start');
    assert.ok(start && start.type === 'start' && start.resumed && start.step === 5);
  });

  it('gives the same losses with gradient accumulation 2 × B/2 as with batches of B', async () => {
    const one: TrainEvent[] = [];
    const two: TrainEvent[] = [];
    await pretrain(opts(path.join(root, 'one'), { steps: 5 }), { onEvent: collect(one) });
    await pretrain(opts(path.join(root, 'two'), { steps: 5, gradAccumSteps: 2 }), { onEvent: collect(two) });
    const a = stepLosses(one);
    const b = stepLosses(two);
    assert.equal(a.length, 5);
    a.forEach((x, i) => assert.ok(Math.abs(x - b[i]) < 1e-5, `step ${i + 1}: ${x} vs ${b[i]}`));
    assert.ok(a[4] < a[0]); // it did train
  });

  it('stops on a NaN loss with a "diverged" error and keeps the last good checkpoint', async () => {
    let poison = false;
    const previous = fusedOp('cpu', 'crossEntropy');
    const honest = previous ?? portable.crossEntropy;
    registerFusedOps('cpu', {
      crossEntropy: (logits, targets, ignore) => {
        const ce = honest(logits, targets, ignore);
        return poison ? tf.tidy(() => tf.mul(ce, NaN) as tf.Scalar) : ce;
      },
    });
    const out = path.join(root, 'nan');
    try {
      await expectError(
        pretrain(opts(out, { checkpointEvery: 2 }), {
          onEvent: (e) => {
            if (e.type === 'checkpoint' && e.step === 4) poison = true;
          },
        }),
        'diverged',
        /step 5.*step 4 is kept.*lower learning rate/,
      );
    } finally {
      registerFusedOps('cpu', { crossEntropy: previous }); // put back what the engine registered
    }
    assert.deepEqual((await listCheckpoints(path.join(out, 'checkpoints'))).map((c) => c.step), [2, 4]);
    const last = (await readMetrics(out)).pop();
    assert.ok(last && last.type === 'done' && last.status === 'diverged' && last.step === 4);
    const { model } = await loadModel(out);
    assert.ok([...model.params.get('wte.weight')!.dataSync()].every(Number.isFinite));
    model.dispose();
  });

  it('saves a checkpoint when cancelled and says so', async () => {
    const out = path.join(root, 'cancel');
    const stop = new AbortController();
    const events: TrainEvent[] = [];
    const result = await pretrain(opts(out, { steps: 50 }), {
      signal: stop.signal,
      onEvent: (e) => {
        events.push(e);
        if (e.type === 'step' && e.step === 3) stop.abort();
      },
    });
    assert.equal(result.status, 'cancelled');
    assert.equal(result.step, 3);
    assert.equal(path.basename(result.checkpointDir!), 'step-000003');
    const state = JSON.parse(await fsp.readFile(path.join(result.checkpointDir!, 'training_state.json'), 'utf8'));
    assert.equal(state.step, 3);
    assert.deepEqual(events.slice(-2).map((e) => e.type), ['checkpoint', 'done']);
    const done = events[events.length - 1];
    assert.ok(done.type === 'done' && done.status === 'cancelled');
  });

  it('leaks no tensors across steps or after the run', async () => {
    const before = tf.memory().numTensors;
    const counts: number[] = [];
    await pretrain(opts(path.join(root, 'leak'), { steps: 8, evalEvery: 2, sampleEvery: 3, sampleTokens: 2, checkpointEvery: 4 }), {
      onEvent: (e) => {
        if (e.type === 'step') counts.push(tf.memory().numTensors);
      },
    });
    assert.ok(counts.every((c) => c === counts[0]), `tensors per step: ${counts}`);
    assert.equal(tf.memory().numTensors, before);
  });

  it('finishes at once when resumed at its last step, and continues to a larger step count', async () => {
    const out = path.join(root, 'more');
    await pretrain(opts(out, { steps: 4 }));
    const again: TrainEvent[] = [];
    const r = await pretrain({ outDir: out, tokens, resume: true }, { onEvent: collect(again) });
    assert.equal(r.step, 4);
    assert.equal(stepLosses(again).length, 0);
    const more = await pretrain({ outDir: out, tokens, resume: true, steps: 7 });
    assert.equal(more.step, 7);
    assert.equal(JSON.parse(await fsp.readFile(path.join(out, 'run.json'), 'utf8')).options.steps, 7);
  });

  describe('refuses', () => {
    it('to start over an existing run unless resuming', async () => {
      const out = path.join(root, 'taken');
      await pretrain(opts(out, { steps: 2 }));
      await expectError(pretrain(opts(out, { steps: 2 })), 'bad-argument', /already holds a training run.*resume/);
    });
    it('to resume a folder that does not exist or is empty, but resumes a run set up without a checkpoint from step 0', async () => {
      const missing = path.join(root, 'no-such-run');
      await expectError(pretrain(opts(missing, { steps: 2, resume: true })), 'not-found', /no run to resume at .*no-such-run/);
      await assert.rejects(fsp.stat(missing), 'nothing was created for the mistyped path');
      const empty = path.join(root, 'empty');
      await fsp.mkdir(empty);
      await expectError(pretrain(opts(empty, { steps: 2, resume: true })), 'not-found', /no run to resume in .*empty \(the folder is empty\)/);
      assert.deepEqual(await fsp.readdir(empty), []);
      const early = path.join(root, 'stopped-early'); // the editor wrote its job.json, then the worker stopped
      await fsp.mkdir(early);
      await fsp.writeFile(path.join(early, 'job.json'), '{}');
      const r = await pretrain(opts(early, { steps: 2, resume: true }));
      assert.equal(r.step, 2);
    });
    it('to resume with different run-defining settings or data', async () => {
      const out = path.join(root, 'diff');
      await pretrain(opts(out, { steps: 2 }));
      await expectError(pretrain({ outDir: out, tokens, resume: true, lr: 0.5 }), 'bad-argument', /lr \(run: 0.01, now: 0.5\)/);
      await expectError(
        pretrain({ outDir: out, tokens: tokens.map((t) => (t + 1) % 10), resume: true }),
        'bad-argument',
        /not the data run/,
      );
    });
    it('data too short for one batch, and ids outside the vocabulary', async () => {
      await expectError(pretrain(opts(path.join(root, 'x'), { tokens: tokens.slice(0, 30) })), 'bad-data', /batch needs 4/);
      await expectError(pretrain(opts(path.join(root, 'y'), { tokens: [...tokens, 99] })), 'bad-data', /99.*vocabulary/);
      await expectError(pretrain(opts(path.join(root, 'z'), { gradAccumSteps: 3 })), 'bad-argument', /gradAccumSteps/);
    });
    it('empty text, both text and tokens, and text whose GPT-2 ids do not fit a small vocabulary', async () => {
      const o = (extra: Partial<PretrainOptions>): PretrainOptions => ({ ...opts(path.join(root, 't')), tokens: undefined, ...extra });
      await expectError(pretrain(o({ text: '  \n' })), 'bad-data', /text is empty/);
      await expectError(pretrain(o({ text: 'a', tokens })), 'bad-argument', /either text or tokens/);
      // "Hello" is GPT-2 token 15496, far outside a 16-token vocabulary
      await expectError(pretrain(o({ text: 'Hello' })), 'bad-data', /is 15496, outside the model's vocabulary 0\.\.15/);
    });
  });
});
