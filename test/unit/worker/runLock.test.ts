// Two of the extension's worker processes (two VS Code windows on one workspace) asked to train the same run
// folder: the second is refused with the first's pid, and once the first is stopped, resuming works.
import * as assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { LlmLabError } from '../../../src/core/errors';
import { WorkerClient } from '../../../src/extension/workerClient';
import type { TrainJob } from '../../../src/protocol/worker';

const WORKER = resolve(__dirname, '../../../../dist/worker.js');
const VERDICT = resolve(__dirname, '../../../../samples/the-verdict.txt');

describe('two workers and one run folder', function () {
  this.timeout(300_000);
  let dir: string;
  const clients: WorkerClient[] = [];

  before(() => {
    assert.ok(existsSync(WORKER), `${WORKER} is missing: run npm run build first (npm test does)`);
    dir = mkdtempSync(join(tmpdir(), 'llmlab-worker-lock-'));
  });
  after(() => {
    for (const c of clients) c.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses the second training of a folder, naming the worker that trains it', async () => {
    const [a, b] = [1, 2].map(() => new WorkerClient({ workerPath: WORKER, env: { LLM_LAB_BACKEND: 'cpu' } }));
    clients.push(a, b);
    const job: TrainJob = {
      runDir: join(dir, 'run'), files: [VERDICT], preset: 'tiny', contextLength: 8, steps: 100_000, batchSize: 1,
      learningRate: 1e-3, evalEvery: 1000, checkpointEvery: 5, seed: 1, maxFileBytes: 1_000_000, resume: false,
    };
    const stop = new AbortController();
    let stepped!: () => void;
    const firstStep = new Promise<void>((r) => (stepped = r));
    const first = a.request('train/start', job, {
      signal: stop.signal,
      onNotify: (n) => {
        if (n.method === 'train/didEvent' && (n.params as { type?: string }).type === 'step') stepped();
      },
    });
    first.catch(() => undefined);
    await Promise.race([firstStep, first.then((r) => assert.fail(`the first run ended: ${JSON.stringify(r)}`))]);
    const holder = JSON.parse(readFileSync(join(job.runDir, 'run.lock'), 'utf8')) as { pid: number };
    for (const second of [job, { ...job, resume: true }]) {
      await assert.rejects(b.request('train/start', second), (e: unknown) => {
        assert.ok(e instanceof LlmLabError && e.code === 'busy', String(e));
        assert.match(e.message, new RegExp(`already training in .*run \\(pid ${holder.pid}, started `));
        return true;
      });
    }
    stop.abort();
    const r = await first.catch((e: unknown) => e);
    assert.ok(!(r instanceof Error) || (r instanceof LlmLabError && r.code === 'cancelled'), String(r));
    assert.ok(!readdirSync(job.runDir).includes('run.lock'), 'the stopped run left its lock');
    const resumed = await b.request('train/start', { ...job, steps: 1, resume: true }).catch((e: unknown) => e);
    // Resuming to one step is refused for being past the steps asked for: it got past the lock to the run's own rules.
    assert.ok(resumed instanceof LlmLabError && /already at step \d+, past the 1 steps/.test(resumed.message), String(resumed));
  });
});
