import * as assert from 'node:assert/strict';
import { initEngine, tf } from '../../../../src/core/engine';
import { registerGradients } from '../../../../src/core/engine/gradients';
import { makeConfig } from '../../../../src/core/model/config';
import { GptModel } from '../../../../src/core/model/gpt';
import { AdamW } from '../../../../src/core/train/optimizer';

const cfg = makeConfig('tiny', { vocabSize: 11, contextLength: 4, embDim: 4, nHeads: 2, nLayers: 1 });
const opts = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.5 };

function snapshot(model: GptModel): Map<string, Float32Array> {
  return new Map([...model.params].map(([n, v]) => [n, Float32Array.from(v.dataSync())]));
}

describe('AdamW', () => {
  before(async () => {
    await initEngine('cpu');
    assert.equal(registerGradients(), undefined);
  });

  it('decays matrices and embeddings but not biases and LayerNorm parameters', () => {
    const model = GptModel.create(cfg, 1);
    for (const [name, v] of model.params) if (name.endsWith('.bias')) v.assign(tf.fill(v.shape, 0.5)); // non-zero biases
    const before = snapshot(model);
    const opt = new AdamW(model, opts);
    const zeros = new Map([...model.params].map(([n, v]) => [n, tf.zerosLike(v)]));
    opt.update(zeros, 0.1, 1); // no gradient: only weight decay can move a parameter
    for (const [name, v] of model.params) {
      const now = v.dataSync();
      const was = before.get(name)!;
      const decays = !name.endsWith('.bias') && !/ln_(1|2|f)\./.test(name);
      const factor = decays ? 1 - 0.1 * 0.5 : 1;
      for (let i = 0; i < now.length; i++) assert.ok(Math.abs(now[i] - was[i] * factor) < 1e-6, `${name}[${i}]`);
    }
    tf.dispose([...zeros.values()]);
    opt.dispose();
    model.dispose();
  });

  it('takes a first step of lr against the gradient sign (bias-corrected moments)', () => {
    const model = GptModel.create(cfg, 2);
    const before = snapshot(model);
    const opt = new AdamW(model, { ...opts, weightDecay: 0 });
    const grads = new Map([...model.params].map(([n, v]) => [n, tf.fill(v.shape, n.endsWith('.bias') ? -3 : 0.2)]));
    opt.update(grads, 0.01, 1);
    for (const [name, v] of model.params) {
      const step = name.endsWith('.bias') ? 0.01 : -0.01;
      const now = v.dataSync();
      const was = before.get(name)!;
      for (let i = 0; i < now.length; i++) assert.ok(Math.abs(now[i] - (was[i] + step)) < 1e-6, `${name}[${i}]`);
    }
    tf.dispose([...grads.values()]);
    opt.dispose();
    model.dispose();
  });

  it('restores saved moments exactly and rejects missing ones', async () => {
    const model = GptModel.create(cfg, 3);
    const opt = new AdamW(model, opts);
    const grads = new Map([...model.params].map(([n, v]) => [n, tf.randomNormal(v.shape, 0, 1, 'float32', 5)]));
    opt.update(grads, 0.01, 1);
    const saved = new Map<string, { shape: number[]; data: Float32Array }>();
    for (const [k, t] of opt.stateTensors()) saved.set(k, { shape: t.shape, data: Float32Array.from(await t.data()) });
    const again = new AdamW(model, opts);
    again.loadState(saved, 'state');
    for (const [k, t] of again.stateTensors()) assert.deepEqual([...t.dataSync()], [...saved.get(k)!.data], k);
    assert.ok([...saved.get('exp_avg.wte.weight')!.data].some((x) => x !== 0));
    saved.delete('exp_avg_sq.ln_f.bias');
    assert.throws(() => again.loadState(saved, 'state'), /exp_avg_sq\.ln_f\.bias/);
    tf.dispose([...grads.values()]);
    [opt, again].forEach((o) => o.dispose());
    model.dispose();
  });
});
