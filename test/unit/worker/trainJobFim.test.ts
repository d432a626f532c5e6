// The worker's training job passes Pretrain on Workspace's fill-in-the-middle choice to core: the run records
// the rate and the checkpoint's config names the sentinels.
import * as assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { initEngine } from '../../../src/core/engine';
import { trainJob } from '../../../src/worker/trainJob';

describe('worker training job with fill-in-the-middle', function () {
  this.timeout(300_000);
  let tmp: string;
  const backend = process.env.LLM_LAB_BACKEND;

  before(async () => {
    process.env.LLM_LAB_BACKEND = 'cpu';
    await initEngine('cpu');
    tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'llm-lab-trainjob-fim-'));
  });
  after(async () => {
    if (backend === undefined) delete process.env.LLM_LAB_BACKEND;
    else process.env.LLM_LAB_BACKEND = backend;
    await fsp.rm(tmp, { recursive: true, force: true });
  });

  it('trains with the job’s fimRate and records it', async () => {
    const files: string[] = [];
    for (let i = 0; i < 20; i++) {
      const f = path.join(tmp, `f${i}.ts`);
      await fsp.writeFile(f, `export function add${i}(a: number, b: number): number {\n  return a + b + ${i};\n}\n`);
      files.push(f);
    }
    const runDir = path.join(tmp, 'run');
    const signal = new AbortController().signal;
    const r = await trainJob(
      { runDir, files, preset: 'tiny', contextLength: 16, steps: 2, batchSize: 2, learningRate: 1e-3, evalEvery: 100, checkpointEvery: 100, seed: 1, maxFileBytes: 1 << 20, resume: false, fimRate: 0.5, fimSpmRate: 0.25 },
      { signal, notify: () => undefined },
    );
    assert.equal(r.steps, 2);
    const run = JSON.parse(await fsp.readFile(path.join(runDir, 'run.json'), 'utf8'));
    assert.deepEqual([run.options.fimRate, run.options.fimSpmRate], [0.5, 0.25]);
    const config = JSON.parse(await fsp.readFile(path.join(r.checkpointDir!, 'config.json'), 'utf8'));
    assert.deepEqual(config.llm_lab.fim, { prefix: 50257, middle: 50258, suffix: 50259 });
    assert.equal(config.vocab_size, 50260);
  });
});
