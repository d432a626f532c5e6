// The extension's worker process (the dist/worker.js bundle `npm run build` makes) trains on the webgpu backend
// when the backend setting asks for it: here on SwiftShader (LLM_LAB_WEBGPU_SOFTWARE=1 and Debian's chromium). A
// two-step `tiny` run with a short context keeps the 50,257-wide head affordable on a software GPU.
import * as assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { WorkerClient } from '../../../src/extension/workerClient';

const WORKER = resolve(__dirname, '../../../../dist/worker.js');

describe('the worker trains on webgpu (SwiftShader)', function () {
  this.timeout(300_000);
  let dir: string;
  let client: WorkerClient;

  before(() => {
    assert.ok(existsSync(WORKER), `${WORKER} is missing: run npm run build first (npm test does)`);
    dir = mkdtempSync(join(tmpdir(), 'llmlab-webgpu-worker-'));
    const text = 'The quick brown fox jumps over the lazy dog while the small cat sleeps in the warm sun. '.repeat(6);
    writeFileSync(join(dir, 'corpus.txt'), text);
    client = new WorkerClient({ workerPath: WORKER, env: { LLM_LAB_BACKEND: 'webgpu', LLM_LAB_WEBGPU_SOFTWARE: '1' } });
  });

  after(() => {
    client.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reports the webgpu engine and its adapter, then runs a training job to its last checkpoint', async () => {
    const info = await client.request('engine/info', {});
    assert.equal(info.backend, 'webgpu', info.summary);
    assert.match(info.summary, /^Backend: webgpu — WebGPU on Dawn: google swiftshader/m);
    assert.ok(info.fusedOps.includes('causalAttention') && info.fusedOps.includes('adamw'), info.fusedOps.join(', '));
    assert.equal(info.gradientsMissing, undefined);
    const steps: number[] = [];
    const result = await client.request(
      'train/start',
      {
        runDir: join(dir, 'run'), files: [join(dir, 'corpus.txt')], preset: 'tiny', contextLength: 8, steps: 2, batchSize: 1,
        learningRate: 1e-3, evalEvery: 2, checkpointEvery: 2, seed: 1, maxFileBytes: 1_000_000, resume: false,
      },
      { onNotify: (n) => {
        const e = n.params as { type?: string; step?: number; loss?: number };
        if (n.method === 'train/didEvent' && e.type === 'step') steps.push(e.loss!);
      } },
    );
    assert.equal(result.steps, 2);
    assert.equal(result.cancelled, false);
    assert.equal(steps.length, 2);
    // A fresh tiny model's loss is about ln(50257) ≈ 10.8.
    assert.ok(steps.every((l) => Math.abs(l - Math.log(50257)) < 1), `losses ${steps.join(', ')}`);
    assert.ok(result.checkpointDir && existsSync(result.checkpointDir), `checkpoint ${result.checkpointDir}`);
  });
});
