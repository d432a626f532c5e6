import * as assert from 'node:assert/strict';
import { initEngine, tf } from '../../../../src/core/engine';
import { makeConfig, countParameters } from '../../../../src/core/model/config';
import { GptModel, parameterShapes, decays } from '../../../../src/core/model/gpt';
import { KvCache } from '../../../../src/core/model/kvCache';

const cfg = makeConfig('tiny', { vocabSize: 53, contextLength: 12, embDim: 16, nHeads: 2, nLayers: 2 });

function ids(rows: number[][]): tf.Tensor2D {
  return tf.tensor2d(rows, [rows.length, rows[0].length], 'int32');
}

describe('GptModel', () => {
  before(async () => {
    await initEngine('cpu');
  });

  it('has exactly the parameters countParameters counts, in the GPT-2 layout', () => {
    const model = GptModel.create(cfg, 1);
    const total = [...model.params.values()].reduce((s, v) => s + v.size, 0);
    assert.equal(total, countParameters(cfg));
    assert.deepEqual(model.params.get('h.1.attn.c_attn.weight')!.shape, [16, 48]);
    assert.ok(!model.params.has('lm_head.weight'));
    const untied = parameterShapes({ ...cfg, tiedHead: false });
    assert.deepEqual(untied.get('lm_head.weight'), [53, 16]);
    model.dispose();
  });

  it('decays matrices but not biases and norms', () => {
    assert.ok(decays('h.0.attn.c_attn.weight'));
    assert.ok(decays('wte.weight'));
    assert.ok(!decays('h.0.attn.c_attn.bias'));
    assert.ok(!decays('h.3.ln_2.weight'));
    assert.ok(!decays('ln_f.weight'));
  });

  it('initialises the same weights from the same seed, others from another', () => {
    const a = GptModel.create(cfg, 7);
    const b = GptModel.create(cfg, 7);
    const c = GptModel.create(cfg, 8);
    const w = (m: GptModel) => m.params.get('h.0.mlp.c_fc.weight')!.dataSync();
    assert.deepEqual(w(a), w(b));
    assert.notDeepEqual(w(a), w(c));
    [a, b, c].forEach((m) => m.dispose());
  });

  it('initialises as GPT-2 does (N(0, 0.02), residual projections 0.02/√(2·layers), biases 0, norms 1), the same bits on every backend', async () => {
    const wide = makeConfig('tiny', { vocabSize: 500, contextLength: 16, embDim: 64, nHeads: 2, nLayers: 2 });
    const weights = async (backend: 'cpu' | 'wasm' | 'native'): Promise<Map<string, Float32Array>> => {
      await initEngine(backend);
      const m = GptModel.create(wide, 3);
      const out = new Map([...m.params].map(([k, v]) => [k, Float32Array.from(v.dataSync())]));
      m.dispose();
      return out;
    };
    try {
      const cpu = await weights('cpu');
      const std = (a: Float32Array): number => Math.sqrt(a.reduce((s, x) => s + x * x, 0) / a.length);
      assert.ok(Math.abs(std(cpu.get('wte.weight')!) / 0.02 - 1) < 0.02, `wte std ${std(cpu.get('wte.weight')!)}`);
      assert.ok(Math.abs(std(cpu.get('h.1.mlp.c_proj.weight')!) / (0.02 / Math.sqrt(4)) - 1) < 0.03);
      assert.ok(cpu.get('h.0.attn.c_attn.bias')!.every((x) => x === 0));
      assert.ok(cpu.get('h.0.ln_1.weight')!.every((x) => x === 1));
      for (const backend of ['wasm', 'native'] as const) {
        let other: Map<string, Float32Array>;
        try {
          other = await weights(backend);
        } catch (e) {
          if (backend === 'wasm' || process.env.LLM_LAB_ALLOW_NO_NATIVE !== '1') throw e;
          continue; // native not built, and the run allows that
        }
        for (const [name, a] of cpu) assert.deepEqual(other.get(name), a, `${backend}: ${name} differs from cpu`);
      }
    } finally {
      await initEngine('cpu');
    }
  });

  it('starts near the uniform loss ln(V)', () => {
    const model = GptModel.create(cfg, 3);
    const x = ids([[1, 2, 3, 4, 5, 6]]);
    const y = ids([[2, 3, 4, 5, 6, 7]]);
    const loss = model.loss(x, y).dataSync()[0];
    assert.ok(Math.abs(loss - Math.log(53)) < 0.3, `loss ${loss}`);
    tf.dispose([x, y]);
    model.dispose();
  });

  it('is causal: changing a later token never changes an earlier position', () => {
    const model = GptModel.create(cfg, 4);
    const a = model.forward(ids([[5, 9, 11, 2, 40, 7, 3]])).logits;
    const b = model.forward(ids([[5, 9, 11, 2, 13, 50, 1]])).logits;
    const early = (t: tf.Tensor3D) => tf.slice(t, [0, 0, 0], [1, 4, 53]).arraySync();
    assert.deepEqual(early(a), early(b));
    const late = (t: tf.Tensor3D) => tf.slice(t, [0, 4, 0], [1, 1, 53]).dataSync();
    assert.notDeepEqual(late(a), late(b));
    model.dispose();
    tf.dispose([a, b]);
  });

  it('gives with a KV cache, token by token, the logits of a full recomputation', () => {
    const model = GptModel.create(cfg, 5);
    const seq = [3, 17, 29, 8, 44, 1, 52, 10];
    const full = model.forward(ids([seq])).logits; // (1, 8, V)
    const cache = new KvCache(cfg.nLayers);
    const prefill = model.forward(ids([seq.slice(0, 3)]), { cache }).logits;
    const rows: Float32Array[] = [tf.slice(prefill, [0, 2, 0], [1, 1, 53]).dataSync() as Float32Array];
    for (let t = 3; t < seq.length; t++) {
      const step = model.forward(ids([[seq[t]]]), { cache }).logits;
      rows.push(step.dataSync() as Float32Array);
      step.dispose();
    }
    assert.equal(cache.length, seq.length);
    for (let t = 2; t < seq.length; t++) {
      const want = tf.slice(full, [0, t, 0], [1, 1, 53]).dataSync();
      const got = rows[t - 2];
      for (let j = 0; j < 53; j++) assert.ok(Math.abs(want[j] - got[j]) < 1e-4, `position ${t}, logit ${j}`);
    }
    cache.dispose();
    tf.dispose([full, prefill]);
    model.dispose();
  });

  it('returns each layer’s attention weights: causal rows that sum to 1', () => {
    const model = GptModel.create(cfg, 6);
    const { logits, attention } = model.forward(ids([[1, 2, 3, 4, 5]]), { returnAttention: true });
    assert.equal(attention!.length, cfg.nLayers);
    const w = attention![1].arraySync()[0][1]; // head 1: (T, T)
    for (let i = 0; i < 5; i++) {
      const sum = w[i].reduce((s, x) => s + x, 0);
      assert.ok(Math.abs(sum - 1) < 1e-5);
      for (let j = i + 1; j < 5; j++) assert.ok(w[i][j] < 1e-6, 'weight above the diagonal');
    }
    tf.dispose([logits, ...attention!]);
    model.dispose();
  });

  it('applies dropout only in training, reproducibly per seed', () => {
    const model = GptModel.create({ ...cfg, dropRate: 0.5 }, 2);
    const x = ids([[1, 2, 3, 4]]);
    const evalA = model.forward(x).logits.dataSync();
    const evalB = model.forward(x).logits.dataSync();
    assert.deepEqual(evalA, evalB);
    const tr1 = model.forward(x, { training: true, seed: 1 }).logits.dataSync();
    const tr1b = model.forward(x, { training: true, seed: 1 }).logits.dataSync();
    const tr2 = model.forward(x, { training: true, seed: 2 }).logits.dataSync();
    assert.deepEqual(tr1, tr1b);
    assert.notDeepEqual(tr1, tr2);
    assert.notDeepEqual(tr1, evalA);
    model.dispose();
  });

  it('rejects inputs longer than the context and leaks no tensors', () => {
    const model = GptModel.create(cfg, 9);
    const before = tf.memory().numTensors;
    const x = ids([[1, 2, 3]]);
    const y = ids([[2, 3, 4]]);
    model.loss(x, y).dispose();
    tf.dispose([x, y]);
    assert.equal(tf.memory().numTensors, before);
    const long = ids([Array.from({ length: 13 }, (_, i) => i)]);
    assert.throws(() => model.forward(long), /context length is 12/);
    long.dispose();
    model.dispose();
  });
});
