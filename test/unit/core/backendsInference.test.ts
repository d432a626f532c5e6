// Inference guarantees checked on every backend that starts here, not only on cpu where the model tests run:
// attention is causal, KV-cache decoding gives the logits of a full recomputation, attention maps are causal
// rows summing to 1, and a model saved while this backend runs loads on cpu with the same logits.
import * as assert from 'node:assert/strict';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import type { BackendName } from '../../../src/core/engine';
import { engineInfo, initEngine, tf } from '../../../src/core/engine';
import { loadModel, saveModel } from '../../../src/core/checkpoint';
import { makeConfig } from '../../../src/core/model/config';
import { GptModel } from '../../../src/core/model/gpt';
import { KvCache } from '../../../src/core/model/kvCache';
import { backendMissing } from './backendRequired';

const BACKENDS: BackendName[] = ['cpu', 'wasm', 'native', 'tensorflow'];
const cfg = makeConfig('tiny', { vocabSize: 61, contextLength: 10, embDim: 16, nHeads: 4, nLayers: 2 });
const V = cfg.vocabSize;

function ids(row: number[]): tf.Tensor2D {
  return tf.tensor2d([row], [1, row.length], 'int32'); // (1, T)
}

/** Logits of position t (1, V) from a (1, T, V) tensor, as plain numbers. */
function rowAt(logits: tf.Tensor3D, t: number): Float32Array {
  return tf.tidy(() => tf.slice(logits, [0, t, 0], [1, 1, V]).dataSync() as Float32Array);
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

for (const backend of BACKENDS) {
  describe(`model inference on ${backend}`, function () {
    let previous: BackendName | undefined;
    let failure: unknown;
    before(async () => {
      previous = engineInfo()?.backend;
      try {
        await initEngine(backend);
      } catch (e) {
        failure = e;
      }
    });
    beforeEach(function () {
      if (failure) backendMissing(this, backend, failure);
    });
    after(async () => {
      if (previous) await initEngine(previous);
    });

    it('is causal: a changed later token leaves every earlier position exactly as it was', () => {
      const model = GptModel.create(cfg, 11);
      const a = tf.tidy(() => model.forward(ids([4, 9, 33, 2, 60, 7, 1, 5])).logits); // (1, 8, V)
      const b = tf.tidy(() => model.forward(ids([4, 9, 33, 2, 18, 40, 0, 5])).logits); // (1, 8, V)
      for (let t = 0; t < 4; t++) assert.deepEqual(rowAt(a, t), rowAt(b, t), `position ${t}`);
      assert.ok(maxDiff(rowAt(a, 4), rowAt(b, 4)) > 1e-3, 'the changed position itself must change');
      tf.dispose([a, b]);
      model.dispose();
    });

    it('decodes with a KV cache to the logits of a full recomputation, and leaks nothing', () => {
      const model = GptModel.create(cfg, 12);
      const before = tf.memory().numTensors;
      const seq = [3, 17, 29, 8, 44, 1, 52, 10, 60];
      const full = tf.tidy(() => model.forward(ids(seq)).logits); // (1, 9, V)
      const cache = new KvCache(cfg.nLayers);
      const first = ids(seq.slice(0, 2)); // (1, 2)
      const prefill = model.forward(first, { cache }).logits; // (1, 2, V)
      first.dispose();
      assert.ok(maxDiff(rowAt(prefill, 1), rowAt(full, 1)) < 1e-4, 'prefill');
      for (let t = 2; t < seq.length; t++) {
        const x = ids([seq[t]]); // (1, 1)
        const step = model.forward(x, { cache }).logits; // (1, 1, V)
        x.dispose();
        const d = maxDiff(rowAt(step, 0), rowAt(full, t));
        assert.ok(d < 1e-4, `position ${t}: cached and full logits differ by ${d}`);
        step.dispose();
      }
      assert.equal(cache.length, seq.length);
      cache.dispose();
      tf.dispose([full, prefill]);
      assert.equal(tf.memory().numTensors, before);
      model.dispose();
    });

    it('returns attention maps that are causal and whose rows sum to 1', () => {
      const model = GptModel.create(cfg, 13);
      const T = 6;
      const x = ids([1, 2, 3, 4, 5, 6]); // (1, T)
      const { logits, attention } = model.forward(x, { returnAttention: true });
      x.dispose();
      assert.equal(attention!.length, cfg.nLayers);
      for (const layer of attention!) {
        assert.deepEqual(layer.shape, [1, cfg.nHeads, T, T]);
        const w = layer.dataSync();
        for (let h = 0; h < cfg.nHeads; h++) {
          for (let q = 0; q < T; q++) {
            let sum = 0;
            for (let k = 0; k < T; k++) {
              const x = w[((h * T + q) * T) + k];
              if (k > q) assert.equal(x, 0, `head ${h} query ${q} attends to later key ${k}`);
              sum += x;
            }
            assert.ok(Math.abs(sum - 1) < 1e-5, `head ${h} row ${q} sums to ${sum}`);
          }
        }
      }
      tf.dispose([logits, ...attention!]);
      model.dispose();
    });

    it('saves a model that loads on cpu with the same logits', async () => {
      const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'llm-lab-qa-backend-'));
      try {
        const model = GptModel.create(cfg, 14);
        const probe = [7, 3, 58, 21, 0, 9];
        const here = tf.tidy(() => model.forward(ids(probe)).logits.dataSync() as Float32Array);
        await saveModel(dir, model);
        model.dispose();
        await initEngine('cpu');
        const loaded = await loadModel(dir);
        const there = tf.tidy(() => loaded.model.forward(ids(probe)).logits.dataSync() as Float32Array);
        loaded.model.dispose();
        const scale = Math.max(...Array.from(there, Math.abs));
        assert.ok(maxDiff(here, there) <= 1e-4 * Math.max(1, scale), `logits differ by ${maxDiff(here, there)}`);
      } finally {
        await initEngine(backend);
        await fsp.rm(dir, { recursive: true, force: true });
      }
    });
  });
}
