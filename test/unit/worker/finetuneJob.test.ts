// The worker's fine-tuning jobs on a tiny classifier made from the tiny preset's fresh weights: the plan
// before a run (classes, balance, split, what trains), the run with its events (accuracy at each eval, the
// test confusion matrix), model/info of the result (classes, what trained), and predictions for texts.
import * as assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initEngine } from '../../../src/core/engine';
import { isLlmLabError } from '../../../src/core/errors';
import type { FinetuneJob } from '../../../src/protocol/worker';
import { classifyJob, describeTraining, finetuneJob, planFinetuneJob } from '../../../src/worker/finetuneJob';
import { modelInfoJob } from '../../../src/worker/modelJobs';
import { trainingContext } from './trainingContext';

describe('worker fine-tuning jobs (classifier)', function () {
  this.timeout(120_000);
  let dir: string;
  let data: string;
  let job: FinetuneJob;

  before(async () => {
    process.env.LLM_LAB_BACKEND = 'cpu';
    await initEngine('cpu');
    dir = mkdtempSync(join(tmpdir(), 'llm-lab-ftjob-'));
    data = join(dir, 'toy.tsv');
    // 30 rows: 20 "yes", 10 "no"; balancing leaves 10 of each.
    const rows = [];
    for (let i = 0; i < 20; i++) rows.push(`yes\tgood great fine ${i}`);
    for (let i = 0; i < 10; i++) rows.push(`no\tbad awful poor ${i}`);
    writeFileSync(data, rows.join('\n') + '\n');
    job = {
      task: 'classify', runDir: join(dir, 'run'), dataFile: data, preset: 'tiny', contextLength: 16, trainable: 'last-block',
      balance: true, epochs: 2, batchSize: 2, evalEvery: 3, checkpointEvery: 100, learningRate: 1e-3, resume: false,
    };
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('says what trains in words', () => {
    assert.equal(describeTraining('last-block', undefined), 'the last block, the final norm and the head');
    assert.equal(describeTraining('last-3', undefined), 'the last 3 blocks, the final norm and the head');
    assert.equal(describeTraining('head', undefined), 'the classification head');
    assert.equal(describeTraining(undefined, { rank: 8, alpha: 16, targets: ['q', 'v'] }), 'LoRA rank 8 (alpha 16) on q, v');
  });

  it('plans a run: classes before and after balancing, the split, what trains, and memory', async () => {
    const p = await planFinetuneJob(job);
    assert.equal(p.task, 'classify');
    assert.deepEqual([...(p.labels ?? [])].sort(), ['no', 'yes']);
    assert.deepEqual(p.perClass, { yes: 20, no: 10 });
    assert.deepEqual(p.perClassBalanced, { yes: 10, no: 10 });
    // 20 balanced rows, 70/10/20: 14 training, 2 validation, 4 test; 7 steps of 2 an epoch.
    assert.deepEqual(p.split, { train: 14, val: 2, test: 4 });
    assert.equal(p.stepsPerEpoch, 7);
    assert.equal(p.steps, 14);
    assert.equal(p.trains, 'the last block, the final norm and the head');
    assert.ok(p.trainableParameters > 0 && p.trainableParameters < p.parameters);
    assert.ok(p.memoryBytes > 0 && p.fits);
  });

  it('refuses a bad choice of what trains before reading anything', async () => {
    await assert.rejects(planFinetuneJob({ ...job, trainable: 'middle' } as FinetuneJob), (e: unknown) => isLlmLabError(e) && /"middle" is not a choice/.test(e.message));
  });

  it('trains, reporting accuracy at each eval and the test confusion matrix; the result describes itself and classifies', async () => {
    const { ctx, events } = trainingContext();
    const r = await finetuneJob(job, ctx);
    assert.equal(r.cancelled, false);
    assert.equal(r.steps, 14);
    assert.ok(r.checkpointDir);
    const evals = events.flatMap((e) => (e.type === 'eval' ? [e] : []));
    // Every 3 steps and at the end.
    assert.deepEqual(evals.map((e) => e.step), [3, 6, 9, 12, 14]);
    assert.ok(evals.every((e) => typeof e.metrics?.valAccuracy === 'number' && typeof e.metrics.trainAccuracy === 'number'));
    const test = events.find((e) => e.type === 'test');
    assert.ok(test?.type === 'test' && test.confusion);
    assert.equal(test.confusion.counts.flat().reduce((a, b) => a + b, 0), 4);

    const info = await modelInfoJob({ modelDir: r.checkpointDir });
    assert.equal(info.task, 'classifier');
    assert.deepEqual([...(info.classes ?? [])].sort(), ['no', 'yes']);
    assert.equal(info.trained?.what, 'the last block, the final norm and the head');
    const start = events.find((e) => e.type === 'start');
    assert.ok(start?.type === 'start');
    assert.equal(info.trained?.parameters, start.trainableParameters);

    const c = await classifyJob({ modelDir: r.checkpointDir, texts: ['good great fine', 'bad awful poor'] }, trainingContext().ctx);
    assert.deepEqual([...c.labels].sort(), ['no', 'yes']);
    assert.equal(c.predictions.length, 2);
    for (const p of c.predictions) {
      const sum = Object.values(p.probabilities).reduce((a, b) => a + b, 0);
      assert.ok(Math.abs(sum - 1) < 1e-5, `probabilities sum to ${sum}`);
      const best = Object.entries(p.probabilities).sort((a, b) => b[1] - a[1])[0][0];
      assert.equal(p.label, best);
    }
  });
});
