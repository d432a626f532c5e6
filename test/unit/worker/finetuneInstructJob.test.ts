// The worker's instruction fine-tuning job with LoRA on the tiny preset's fresh weights: the plan before the
// run (records, split, what trains in words, a LoRA share of the parameters), the run with its events, and the
// result as an adapter with its prompt style.
import * as assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initEngine } from '../../../src/core/engine';
import type { FinetuneJob, NotificationName, NotificationOf, TrainEventWire } from '../../../src/protocol/worker';
import { finetuneJob, planFinetuneJob } from '../../../src/worker/finetuneJob';
import { modelInfoJob } from '../../../src/worker/modelJobs';
import type { JobContext } from '../../../src/worker/server';

describe('worker fine-tuning jobs (instructions, LoRA)', function () {
  this.timeout(180_000);
  let dir: string;
  let job: FinetuneJob;

  before(async () => {
    process.env.LLM_LAB_BACKEND = 'cpu';
    await initEngine('cpu');
    dir = mkdtempSync(join(tmpdir(), 'llm-lab-ftinstr-'));
    const data = join(dir, 'instructions.json');
    // 20 records: the book's 85/10/5 split in file order gives 17 training, 2 test and 1 validation record.
    writeFileSync(data, JSON.stringify(Array.from({ length: 20 }, (_, i) => ({ instruction: `Say ${i}.`, input: '', output: `${i}` }))));
    job = {
      task: 'instruct', runDir: join(dir, 'run'), dataFile: data, preset: 'tiny', promptStyle: 'phi3',
      lora: { rank: 2, alpha: 4, targets: ['q', 'v'] }, epochs: 1, batchSize: 4, evalEvery: 4, maxResponseTokens: 4, resume: false,
    };
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('plans the run: records, split, steps, and LoRA on the chosen layers as the trained part', async () => {
    const p = await planFinetuneJob(job);
    assert.equal(p.task, 'instruct');
    assert.equal(p.rows, 20);
    assert.equal(p.split.train + p.split.val + p.split.test, 20);
    assert.equal(p.split.train, 17);
    // floor(17 / 4) steps an epoch.
    assert.equal(p.stepsPerEpoch, 4);
    assert.equal(p.steps, 4);
    assert.equal(p.trains, 'LoRA rank 2 (alpha 4) on q, v');
    assert.equal(p.promptStyle, 'phi3');
    assert.equal(p.base, 'fresh tiny weights');
    // q and v adapters on each of tiny's 2 layers: A (64×2) + B (2×64) each, 4 sites.
    assert.equal(p.trainableParameters, 4 * (64 * 2 + 2 * 64));
  });

  it('trains the adapters and the result is an adapter in the phi3 style', async () => {
    const events: TrainEventWire[] = [];
    const ctx: JobContext = {
      signal: new AbortController().signal,
      notify: <N extends NotificationName>(name: N, params: NotificationOf<N>) => {
        if (name === 'train/didEvent') events.push(params as TrainEventWire);
      },
    };
    const r = await finetuneJob(job, ctx);
    assert.equal(r.cancelled, false);
    assert.equal(r.steps, 4);
    const start = events.find((e) => e.type === 'start');
    assert.ok(start?.type === 'start' && start.task === 'instruct' && start.trainableParameters === 4 * (64 * 2 + 2 * 64));
    assert.ok(r.checkpointDir);
    const info = await modelInfoJob({ modelDir: r.checkpointDir });
    assert.equal(info.adapter?.rank, 2);
    assert.equal(info.promptStyle, 'phi3');
  });
});
