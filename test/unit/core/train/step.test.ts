import * as assert from 'node:assert/strict';
import { initEngine, tf } from '../../../../src/core/engine';
import { registerGradients } from '../../../../src/core/engine/gradients';
import { makeConfig } from '../../../../src/core/model/config';
import { GptModel } from '../../../../src/core/model/gpt';
import { clipGradients, computeGradients, dropoutSeed, globalNorm } from '../../../../src/core/train/step';
import type { TokenBatch } from '../../../../src/core/train/step';

const cfg = makeConfig('tiny', { vocabSize: 19, contextLength: 6, embDim: 8, nHeads: 2, nLayers: 1 });

function batchOf(rows: number[][]): TokenBatch {
  const T = rows[0].length - 1;
  return {
    inputs: Int32Array.from(rows.flatMap((r) => r.slice(0, T))),
    targets: Int32Array.from(rows.flatMap((r) => r.slice(1))),
    batchSize: rows.length,
    seqLen: T,
  };
}

describe('training step', () => {
  before(async () => {
    await initEngine('cpu');
    assert.equal(registerGradients(), undefined);
  });

  it('clips the global gradient norm to the bound and keeps the direction', async () => {
    const grads = new Map<string, tf.Tensor>([
      ['a', tf.tensor1d([3, 0])],
      ['b', tf.tensor1d([0, 4])],
    ]);
    assert.ok(Math.abs((await globalNorm(grads)) - 5) < 1e-6);
    const before = await clipGradients(grads, 1);
    assert.ok(Math.abs(before - 5) < 1e-6);
    assert.ok(Math.abs((await globalNorm(grads)) - 1) < 1e-5);
    const a = grads.get('a')!.dataSync();
    const b = grads.get('b')!.dataSync();
    assert.ok(Math.abs(a[0] - 0.6) < 1e-5 && Math.abs(b[1] - 0.8) < 1e-5);
    await clipGradients(grads, 10); // already under the bound: unchanged
    assert.ok(Math.abs(grads.get('a')!.dataSync()[0] - 0.6) < 1e-5);
    await clipGradients(grads, 0); // 0 turns clipping off
    assert.ok(Math.abs((await globalNorm(grads)) - 1) < 1e-5);
    tf.dispose([...grads.values()]);
  });

  it('gives the same loss and gradients with 2 micro-batches of B/2 as with one batch of B', async () => {
    const model = GptModel.create(cfg, 2);
    const batch = batchOf([
      [1, 2, 3, 4, 5, 6, 7],
      [7, 3, 9, 1, 0, 2, 2],
      [18, 17, 3, 4, 4, 4, 1],
      [5, 5, 6, 6, 7, 7, 8],
    ]);
    const one = await computeGradients(model, batch, 1, false, () => 0);
    const two = await computeGradients(model, batch, 2, false, () => 0);
    const four = await computeGradients(model, batch, 4, false, () => 0);
    assert.ok(Math.abs(one.loss - two.loss) < 1e-6 && Math.abs(one.loss - four.loss) < 1e-6);
    assert.equal(one.grads.size, model.params.size);
    for (const [name, g] of one.grads) {
      for (const other of [two, four]) {
        const a = g.dataSync();
        const b = other.grads.get(name)!.dataSync();
        for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) < 1e-6, `${name}[${i}]: ${a[i]} vs ${b[i]}`);
      }
    }
    // and it is not trivially equal: a different batch gives different gradients
    const other = await computeGradients(model, batchOf([[1, 1, 1, 1, 1, 1, 1]]), 1, false, () => 0);
    assert.notDeepEqual([...other.grads.get('wte.weight')!.dataSync()], [...one.grads.get('wte.weight')!.dataSync()]);
    for (const r of [one, two, four, other]) tf.dispose([...r.grads.values()]);
    model.dispose();
  });

  it('leaks no tensors', async () => {
    const model = GptModel.create(cfg, 3);
    const batch = batchOf([[1, 2, 3, 4, 5, 6, 7], [2, 3, 4, 5, 6, 7, 8]]);
    const start = tf.memory().numTensors;
    const r = await computeGradients(model, batch, 2, true, (j) => j);
    await clipGradients(r.grads, 0.001);
    tf.dispose([...r.grads.values()]);
    assert.equal(tf.memory().numTensors, start);
    model.dispose();
  });

  it('derives a different dropout seed for each step and micro-batch, the same each time', () => {
    assert.equal(dropoutSeed(1, 5, 0), dropoutSeed(1, 5, 0));
    const seeds = new Set([dropoutSeed(1, 5, 0), dropoutSeed(1, 6, 0), dropoutSeed(1, 5, 1), dropoutSeed(2, 5, 0)]);
    assert.equal(seeds.size, 4);
  });
});
