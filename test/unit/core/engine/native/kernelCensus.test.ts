// A census of the kernels that GPT-2's training and fine-tuning steps and KV-cache generation dispatch on the
// native backend: none may do element-wise work in TensorFlow.js's plain-JavaScript cpu kernels on more than a
// few hundred elements (bias-sized vectors and scalars stay there: a call into C++ would cost more). The model
// has GPT-2's structure at a small width, dropout 0 as the book fine-tunes GPT-2; pretraining's dropout 0.1
// (the presets' default) is counted too.
import * as assert from 'node:assert/strict';
import { initEngine, tf } from '../../../../../src/core/engine';
import type { JsKernelUse } from '../../../../../src/core/engine/native/jsKernels';
import { startKernelCensus, stopKernelCensus } from '../../../../../src/core/engine/native/jsKernels';
import * as ops from '../../../../../src/core/engine/ops';
import { LoraAdapters } from '../../../../../src/core/lora/adapters';
import { loraSites } from '../../../../../src/core/lora/targets';
import { makeConfig } from '../../../../../src/core/model/config';
import { decays, GptModel } from '../../../../../src/core/model/gpt';
import { KvCache } from '../../../../../src/core/model/kvCache';
import { accumulateGradients, clipGradients, tokenBatchLoss } from '../../../../../src/core/train/step';
import { requireNative } from './helpers';

/** Largest tensor a JavaScript kernel may touch: below 256 elements the native backend keeps element-wise work there. */
const SMALL = 255;

function heavy(uses: JsKernelUse[]): string[] {
  return uses.filter((u) => u.largest > SMALL).map((u) => `${u.kernel} (${u.calls} calls, up to ${u.largest} elements)`);
}

describe('native kernel census', function () {
  const config = makeConfig('tiny', { vocabSize: 500, contextLength: 32, embDim: 64, nHeads: 4, nLayers: 2, dropRate: 0, tiedHead: true });
  const B = 2;
  const T = 32;
  const ids = Int32Array.from({ length: B * T }, (_, i) => (i * 37) % 500);
  const batch = { inputs: ids, targets: ids.map((v) => (v + 1) % 500), batchSize: B, seqLen: T };
  let model: GptModel;

  before(async function () {
    await requireNative(this);
    await initEngine('native');
    model = GptModel.create(config, 1);
  });

  after(() => model?.dispose());

  /** One optimizer step as the trainer takes it: gradients (in micro-batches), clipping, AdamW. */
  async function trainStep(trainable: Map<string, tf.Variable>, accumSteps: number, m: GptModel = model): Promise<JsKernelUse[]> {
    const moments = new Map([...trainable].map(([name, p]) => [name, [tf.variable(tf.zerosLike(p), false), tf.variable(tf.zerosLike(p), false)]]));
    startKernelCensus();
    const g = await accumulateGradients(trainable, B, accumSteps, tokenBatchLoss(m, batch, true), (j) => j + 1);
    await clipGradients(g.grads, 0.01);
    for (const [name, grad] of g.grads) {
      const [m, v] = moments.get(name)!;
      ops.adamw(trainable.get(name)!, grad, m, v, { lr: 1e-3, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: decays(name) ? 0.1 : 0, step: 1 });
      grad.dispose();
    }
    const uses = stopKernelCensus();
    tf.dispose([...moments.values()].flat());
    return uses;
  }

  it('counts JavaScript kernels: a large Multiply on int32 runs there and is seen', () => {
    const a = tf.range(0, 5000, 1, 'int32');
    startKernelCensus();
    tf.mul(a, a).dispose();
    const uses = stopKernelCensus();
    a.dispose();
    assert.deepEqual(heavy(uses), ['Multiply (1 calls, up to 5000 elements)']);
  });

  it('a full training step (tied head, clipping, 1 and 2 micro-batches) runs no large JavaScript kernel', async () => {
    assert.deepEqual(heavy(await trainStep(model.params, 1)), []);
    assert.deepEqual(heavy(await trainStep(model.params, 2)), []);
  });

  it('a full training step with dropout 0.1 (embeddings, attention weights, residual branches) runs no large JavaScript kernel', async () => {
    const dropping = GptModel.create({ ...config, dropRate: 0.1 }, 1);
    try {
      assert.deepEqual(heavy(await trainStep(dropping.params, 1, dropping)), []);
    } finally {
      dropping.dispose();
    }
  });

  it('training the last block only runs no large JavaScript kernel', async () => {
    const last = new Map([...model.params].filter(([name]) => name.startsWith('h.1.')));
    assert.deepEqual(heavy(await trainStep(last, 1)), []);
  });

  it('LoRA fine-tuning (q, k, v, attn-out, mlp-in, mlp-out, head) runs no large JavaScript kernel', async () => {
    const sites = loraSites(config, ['q', 'k', 'v', 'attn-out', 'mlp-in', 'mlp-out', 'head']);
    const lora = LoraAdapters.create(sites, { rank: 4, alpha: 8 }, 1);
    model.adapter = lora;
    try {
      assert.deepEqual(heavy(await trainStep(lora.variables(), 1)), []);
    } finally {
      model.adapter = undefined;
      lora.dispose();
    }
  });

  it('KV-cache generation (prompt, then one token at a time) runs no large JavaScript kernel', async () => {
    const cache = new KvCache(config.nLayers);
    startKernelCensus();
    let next = tf.tidy(() => {
      const { logits } = model.forward(tf.tensor2d([[1, 2, 3, 4, 5, 6, 7]], [1, 7], 'int32'), { cache }); // (1, 7, V)
      return tf.argMax(tf.slice(logits, [0, 6, 0], [1, 1, -1]), -1);
    });
    for (let i = 0; i < 3; i++) {
      const id = (await next.data())[0];
      next.dispose();
      next = tf.tidy(() => tf.argMax(model.forward(tf.tensor2d([[id]], [1, 1], 'int32'), { cache }).logits, -1));
    }
    next.dispose();
    const uses = stopKernelCensus();
    cache.dispose();
    assert.deepEqual(heavy(uses), []);
  });
});
