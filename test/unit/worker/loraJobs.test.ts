// The worker's jobs on instruction-tuned and LoRA models: Ask streams the answer in the model's prompt style,
// model/info describes an adapter with its base, Merge writes a plain model equal to base + adapter and never
// into a folder that holds files (and keeps a base's own tokenizer); the runs list finds a LoRA run's adapter.
import * as assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModel, saveModel } from '../../../src/core/checkpoint';
import { initEngine, tf } from '../../../src/core/engine';
import { isLlmLabError } from '../../../src/core/errors';
import { formatQuery } from '../../../src/core/instruct';
import { describeAdapters, fingerprintModel, loadAnyModel, LoraAdapters, loraSites, parseLoraTargets, saveAdapter } from '../../../src/core/lora';
import { makeConfig } from '../../../src/core/model/config';
import { GptModel } from '../../../src/core/model/gpt';
import { trainBpe } from '../../../src/core/tokenizer/train';
import { listRuns } from '../../../src/extension/runs';
import type { NotificationName, NotificationOf } from '../../../src/protocol/worker';
import { askJob, generateJob, mergeLoraJob, modelInfoJob } from '../../../src/worker/modelJobs';
import type { JobContext } from '../../../src/worker/server';

function context(): { ctx: JobContext; pieces: string[] } {
  const pieces: string[] = [];
  const ctx: JobContext = {
    signal: new AbortController().signal,
    notify: <N extends NotificationName>(name: N, params: NotificationOf<N>) => {
      if (name === 'generate/didToken') pieces.push((params as NotificationOf<'generate/didToken'>).text);
    },
  };
  return { ctx, pieces };
}

describe('worker LoRA and instruction jobs', function () {
  this.timeout(60_000);
  const config = makeConfig('tiny', { contextLength: 64, embDim: 32, nLayers: 1 });
  let dir: string;
  let adapterDir: string;

  before(async () => {
    process.env.LLM_LAB_BACKEND = 'cpu';
    await initEngine('cpu');
    dir = mkdtempSync(join(tmpdir(), 'llmlab-lora-jobs-'));
    const base = GptModel.create(config, 21);
    await saveModel(join(dir, 'base'), base, { tokenizer: 'gpt2' });
    const a = LoraAdapters.create(loraSites(config, parseLoraTargets('q,v,mlp-in')), { rank: 2, alpha: 4 }, 21);
    for (const s of a.bySite.values()) s.B.assign(tf.randomNormal(s.B.shape, 0, 0.5, 'float32', 3));
    // A LoRA run keeps its adapter in its step checkpoints, like any run.
    adapterDir = join(dir, 'runs', 'lora-run', 'checkpoints', 'step-000004');
    await mkdir(join(dir, 'runs', 'lora-run', 'checkpoints'), { recursive: true });
    await saveAdapter(adapterDir, a, describeAdapters(a, { model: join(dir, 'base'), fingerprint: await fingerprintModel(base), config }, { promptStyle: 'phi3' }));
    a.dispose();
    base.dispose();
  });
  after(() => {
    delete process.env.LLM_LAB_BACKEND;
    rmSync(dir, { recursive: true, force: true });
  });

  it('describes an adapter with its base, rank and prompt style', async () => {
    const info = await modelInfoJob({ modelDir: adapterDir });
    assert.equal(info.dir, adapterDir);
    assert.equal(info.promptStyle, 'phi3');
    assert.deepEqual(info.adapter, { base: join(dir, 'base'), rank: 2, alpha: 4, parameters: 2 * (2 * 64 + 160) });
    assert.match(info.name, /lora-run \(step 4\) \(LoRA on base\)/);
  });

  it('asks in the model’s recorded style: the same tokens as generating from the formatted prompt', async () => {
    const a = context();
    const r = await askJob({ modelDir: adapterDir, instruction: 'Say hi.', input: '', maxNewTokens: 5, temperature: 0 }, a.ctx);
    assert.equal(r.promptStyle, 'phi3');
    assert.equal(a.pieces.join(''), r.text);
    const g = context();
    const want = await generateJob({ modelDir: adapterDir, prompt: formatQuery('phi3', { instruction: 'Say hi.', input: '' }), maxNewTokens: 5, temperature: 0 }, g.ctx);
    assert.equal(r.text, want.text);
  });

  it('finds the adapter of a LoRA run as the run’s latest model', async () => {
    const runs = await listRuns(join(dir, 'runs'));
    assert.equal(runs.length, 1);
    assert.equal(runs[0].latestModel, adapterDir);
    const viaRun = await loadAnyModel(join(dir, 'runs', 'lora-run'));
    assert.equal(viaRun.adapter?.dir, adapterDir);
    viaRun.model.dispose();
  });

  it('merges into a new folder with the adapted outputs, and refuses a folder that holds files', async () => {
    const out = join(dir, 'merged');
    const r = await mergeLoraJob({ adapterDir, outDir: out });
    assert.equal(r.sites, 3);
    const merged = await loadModel(out);
    const adapted = await loadAnyModel(adapterDir);
    const x = tf.tensor2d([[5, 6, 7, 8]], [1, 4], 'int32');
    const want = tf.tidy(() => adapted.model.forward(x).logits).dataSync() as Float32Array;
    const got = tf.tidy(() => merged.model.forward(x).logits).dataSync() as Float32Array;
    assert.ok(got.reduce((m, v, i) => Math.max(m, Math.abs(v - want[i])), 0) < 1e-4);
    assert.equal(merged.meta.promptStyle, 'phi3');
    merged.model.dispose();
    adapted.model.dispose();
    const busy = join(dir, 'busy');
    await mkdir(busy);
    await writeFile(join(busy, 'notes.txt'), 'mine');
    await assert.rejects(mergeLoraJob({ adapterDir, outDir: busy }), (e) => isLlmLabError(e) && /already holds files/.test(e.message));
  });

  it('merges an adapter over a base with its own trained tokenizer into a model that keeps the tokenizer and answers the same', async () => {
    const vocabSize = 270;
    const bpe = (await trainBpe(['Say hi to the model, please.', 'The model says hi back to you.'], { vocabSize, name: 'own' })).model;
    const own = makeConfig('tiny', { vocabSize, contextLength: 64, embDim: 32, nLayers: 1 });
    const base = GptModel.create(own, 5);
    const baseDir = join(dir, 'own-base');
    await saveModel(baseDir, base, { tokenizer: 'trained' }, bpe);
    const a = LoraAdapters.create(loraSites(own, parseLoraTargets('q,v')), { rank: 2, alpha: 4 }, 5);
    for (const s of a.bySite.values()) s.B.assign(tf.randomNormal(s.B.shape, 0, 0.5, 'float32', 4));
    const ownAdapter = join(dir, 'own-adapter');
    await saveAdapter(ownAdapter, a, describeAdapters(a, { model: baseDir, fingerprint: await fingerprintModel(base), config: own }, { tokenizer: 'trained', promptStyle: 'alpaca' }));
    a.dispose();
    base.dispose();
    const out = join(dir, 'own-merged');
    await mergeLoraJob({ adapterDir: ownAdapter, outDir: out });
    assert.equal(await readFile(join(out, 'tokenizer.model'), 'utf8'), await readFile(join(baseDir, 'tokenizer.model'), 'utf8'));
    const q = { instruction: 'Say hi.', input: '', maxNewTokens: 5, temperature: 0 };
    const viaAdapter = await askJob({ modelDir: ownAdapter, ...q }, context().ctx);
    const viaMerged = await askJob({ modelDir: out, ...q }, context().ctx);
    assert.equal(viaMerged.text, viaAdapter.text);
  });
});
