// The worker's LoRA classifier path, as the extension drives it: the plan counts the adapters (and says so in
// words), the run reports that count, model/info describes the result as a classifier with LoRA over its base,
// Classify Selection's job classifies with the adapter folder, and Merge LoRA Adapter's job writes a plain
// classifier giving the same probabilities.
import * as assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initEngine } from '../../../src/core/engine';
import type { FinetuneJob } from '../../../src/protocol/worker';
import { classifyJob, finetuneJob, planFinetuneJob } from '../../../src/worker/finetuneJob';
import { mergeLoraJob, modelInfoJob } from '../../../src/worker/modelJobs';
import { trainingContext } from './trainingContext';

describe('worker fine-tuning jobs (LoRA classifier)', function () {
  this.timeout(120_000);
  let dir: string;
  let job: FinetuneJob;
  // The tiny preset is 64 wide with 2 layers; rank 2: per layer q, k, v 3·2·128, attn-out 2·128, mlp-in and
  // mlp-out 2·(64+256) each; the head's adapter 2·(64+2).
  const TRAINED = 2 * (3 * 256 + 256 + 640 + 640) + 2 * 66;

  before(async () => {
    process.env.LLM_LAB_BACKEND = 'cpu';
    await initEngine('cpu');
    dir = mkdtempSync(join(tmpdir(), 'llm-lab-cloraj-'));
    const rows = [];
    for (let i = 0; i < 10; i++) rows.push(`yes\tgood great fine ${i}`, `no\tbad awful poor ${i}`);
    writeFileSync(join(dir, 'toy.tsv'), rows.join('\n') + '\n');
    job = {
      task: 'classify', runDir: join(dir, 'run'), dataFile: join(dir, 'toy.tsv'), preset: 'tiny', contextLength: 16, lora: { rank: 2 },
      epochs: 2, batchSize: 2, evalEvery: 5, checkpointEvery: 100, learningRate: 1e-2, resume: false,
    };
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('plans, trains, describes, classifies and merges a LoRA classifier', async () => {
    const p = await planFinetuneJob(job);
    assert.equal(p.trains, 'LoRA rank 2 (alpha 2) on every linear layer');
    assert.equal(p.trainableParameters, TRAINED);

    const { ctx, events } = trainingContext();
    const r = await finetuneJob(job, ctx);
    assert.equal(r.cancelled, false);
    assert.ok(r.checkpointDir);
    const start = events.find((e) => e.type === 'start');
    assert.ok(start?.type === 'start' && start.trainableParameters === TRAINED);
    assert.ok(events.some((e) => e.type === 'test'));

    const info = await modelInfoJob({ modelDir: job.runDir });
    assert.equal(info.task, 'classifier');
    assert.deepEqual([...(info.classes ?? [])], ['no', 'yes']);
    assert.equal(info.trained?.parameters, TRAINED);
    assert.match(info.trained?.what ?? '', /^LoRA rank 2 \(alpha 2\) on q, k, v, attn-out, mlp-in, mlp-out, head$/);
    assert.equal(info.adapter?.base, join(job.runDir, 'base'));
    assert.match(info.name, /\(LoRA on base\)$/);

    const texts = ['good great fine', 'bad awful poor'];
    const adapted = await classifyJob({ modelDir: r.checkpointDir, texts }, trainingContext().ctx);
    assert.deepEqual(adapted.labels, ['no', 'yes']);

    const outDir = join(dir, 'merged');
    const m = await mergeLoraJob({ adapterDir: job.runDir, outDir });
    assert.equal(m.base, join(job.runDir, 'base'));
    assert.deepEqual(JSON.parse(readFileSync(join(outDir, 'config.json'), 'utf8')).architectures, ['GPT2ForSequenceClassification']);
    const merged = await classifyJob({ modelDir: outDir, texts }, trainingContext().ctx);
    for (let i = 0; i < 2; i++) {
      for (const k of ['no', 'yes']) assert.ok(Math.abs(merged.predictions[i].probabilities[k] - adapted.predictions[i].probabilities[k]) < 1e-5);
    }
  });
});
