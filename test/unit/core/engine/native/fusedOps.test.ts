// Each native fused op against its portable composition on the cpu backend: values and gradients on odd
// shapes, the error for bad ids, and no tensor leaks through a full forward + backward.
import * as assert from 'node:assert/strict';
import { tf } from '../../../../../src/core/engine';
import { portable } from '../../../../../src/core/engine/ops';
import { fusedOp } from '../../../../../src/core/engine/fused';
import type { FusedOps } from '../../../../../src/core/engine/fused';
import { assertClose, on, randomArray, randomInts, requireNative } from './helpers';

/** The native version of an op (registered by loadNativeBackend). */
function nat<K extends keyof FusedOps>(op: K): FusedOps[K] {
  const f = fusedOp('native', op);
  if (!f) throw new Error(`no native ${op}`);
  return f;
}

/** Runs `build(impl)` on cpu with the portable op and on native with the fused one; compares all outputs. */
async function compare<K extends keyof FusedOps>(
  op: K,
  build: (impl: FusedOps[K]) => tf.Tensor[],
  what: string,
  atol = 1e-4,
): Promise<void> {
  const want = await on('cpu', () => build(portable[op] as FusedOps[K]));
  const got = await on('native', () => build(nat(op)));
  want.forEach((w, i) => assertClose(got[i], w, `${what} output ${i}`, atol, 1e-3));
}

describe('native fused ops', function () {
  before(async function () {
    await requireNative(this);
  });
  after(async () => {
    await tf.setBackend('cpu');
  });

  for (const [lead, inDim, outDim] of [[[1], 1, 1], [[3, 5], 7, 9], [[2, 17], 33, 65]] as Array<[number[], number, number]>) {
    it(`linear (${lead}, ${inDim}) → ${outDim}: values and gradients, with and without bias`, async () => {
      const n = lead.reduce((a, b) => a * b, 1);
      const x = randomArray(n * inDim, 1);
      const w = randomArray(inDim * outDim, 2, 0.5);
      const b = randomArray(outDim, 3);
      const up = randomArray(n * outDim, 4); // a fixed upstream gradient
      for (const withBias of [true, false]) {
        await compare('linear', (linear) => {
          const xt = tf.tensor(x, [...lead, inDim]);
          const wt = tf.tensor2d(w, [inDim, outDim]);
          const bt = tf.tensor1d(b);
          const upT = tf.tensor(up, [...lead, outDim]);
          if (!withBias) {
            const f = (xi: tf.Tensor, wi: tf.Tensor) => tf.sum(tf.mul(linear(xi, wi as tf.Tensor2D), upT));
            return [linear(xt, wt), ...tf.grads(f)([xt, wt])];
          }
          const f = (xi: tf.Tensor, wi: tf.Tensor, bi: tf.Tensor) =>
            tf.sum(tf.mul(linear(xi, wi as tf.Tensor2D, bi as tf.Tensor1D), upT));
          return [linear(xt, wt, bt), ...tf.grads(f)([xt, wt, bt])];
        }, `linear bias=${withBias}`);
      }
    });
  }

  it('lmLogits (tied head) 7×5 against a 11-row table: values and both gradients', async () => {
    const x = randomArray(7 * 5, 5);
    const table = randomArray(11 * 5, 6);
    const up = randomArray(7 * 11, 7);
    await compare('lmLogits', (lm) => {
      const inputs = [tf.tensor2d(x, [7, 5]), tf.tensor2d(table, [11, 5])];
      const f = (a: tf.Tensor, t: tf.Tensor) => tf.sum(tf.mul(lm(a as tf.Tensor2D, t as tf.Tensor2D), tf.tensor2d(up, [7, 11])));
      return [lm(inputs[0] as tf.Tensor2D, inputs[1] as tf.Tensor2D), ...tf.grads(f)(inputs)];
    }, 'lmLogits');
  });

  it('embedding: rows by id, and a gradient that adds up repeated ids', async () => {
    const ids = Int32Array.from([0, 3, 3, 9, 1, 3]);
    const table = randomArray(10 * 6, 8);
    const up = randomArray(2 * 3 * 6, 9);
    await compare('embedding', (emb) => {
      const t = tf.tensor2d(table, [10, 6]);
      const idT = tf.tensor2d(ids, [2, 3], 'int32');
      const f = (tt: tf.Tensor) => tf.sum(tf.mul(emb(idT, tt as tf.Tensor2D), tf.tensor3d(up, [2, 3, 6])));
      return [emb(idT, t), tf.grad(f)(t)];
    }, 'embedding');
  });

  it('embedding rejects an id outside the table with a clear error', async () => {
    await tf.setBackend('native');
    assert.throws(
      () => nat('embedding')(tf.tensor2d([[1, 10]], [1, 2], 'int32'), tf.zeros([10, 4]) as tf.Tensor2D),
      /Token id 10 .*outside the embedding table's 10 rows/,
    );
  });

  for (const [lead, c] of [[[1], 1], [[3, 5], 7], [[2, 9], 65]] as Array<[number[], number]>) {
    it(`layerNorm (${lead}, ${c}): values and gradients of x, gamma, beta`, async () => {
      const n = lead.reduce((a, b) => a * b, 1);
      const x = randomArray(n * c, 10, 3);
      const g = randomArray(c, 11);
      const b = randomArray(c, 12);
      const up = randomArray(n * c, 13);
      await compare('layerNorm', (ln) => {
        const inputs = [tf.tensor(x, [...lead, c]), tf.tensor1d(g), tf.tensor1d(b)];
        const f = (xt: tf.Tensor, gt: tf.Tensor, bt: tf.Tensor) =>
          tf.sum(tf.mul(ln(xt, gt as tf.Tensor1D, bt as tf.Tensor1D), tf.tensor(up, [...lead, c])));
        return [ln(inputs[0], inputs[1] as tf.Tensor1D, inputs[2] as tf.Tensor1D), ...tf.grads(f)(inputs)];
      }, 'layerNorm', c === 1 ? 1e-2 : 2e-4);
    });
  }

  it('gelu on 3×5×7 values from −6 to 6: values and gradient', async () => {
    const x = randomArray(105, 14, 6);
    const up = randomArray(105, 15);
    await compare('gelu', (gelu) => {
      const t = tf.tensor3d(x, [3, 5, 7]);
      return [gelu(t), tf.grad((xt: tf.Tensor) => tf.sum(tf.mul(gelu(xt), tf.tensor3d(up, [3, 5, 7]))))(t)];
    }, 'gelu', 2e-5);
  });

  it('dropout at 0.3 on 4×9×13 values: the same mask and values as the JavaScript mask, bit for bit, and gradient', async () => {
    const x = randomArray(468, 20, 3);
    const up = randomArray(468, 21);
    await compare('dropout', (drop) => {
      const t = tf.tensor3d(x, [4, 9, 13]);
      return [drop(t, 0.3, 12345), tf.grad((xt: tf.Tensor) => tf.sum(tf.mul(drop(xt, 0.3, 12345), tf.tensor3d(up, [4, 9, 13]))))(t)];
    }, 'dropout', 0);
  });

  for (const [b, h, tq, d, offset] of [[2, 3, 5, 7, 0], [1, 2, 3, 4, 6], [2, 2, 17, 16, 0]]) {
    it(`causalAttention with dropout 0.25, B${b} H${h} Tq${tq} D${d} offset ${offset}: output, weights, gradients as softmax·mask composed`, async () => {
      const tk = offset + tq;
      const q = randomArray(b * h * tq * d, 22, 2);
      const k = randomArray(b * h * tk * d, 23, 2);
      const v = randomArray(b * h * tk * d, 24);
      const up = randomArray(b * h * tq * d, 25);
      const opts = { offset, dropRate: 0.25, seed: 77 };
      await compare('causalAttention', (att) => {
        const inputs = [tf.tensor4d(q, [b, h, tq, d]), tf.tensor4d(k, [b, h, tk, d]), tf.tensor4d(v, [b, h, tk, d])] as tf.Tensor4D[];
        const f = (qt: tf.Tensor, kt: tf.Tensor, vt: tf.Tensor) =>
          tf.sum(tf.mul(att(qt as tf.Tensor4D, kt as tf.Tensor4D, vt as tf.Tensor4D, opts).out, tf.tensor4d(up, [b, h, tq, d])));
        const r = att(inputs[0], inputs[1], inputs[2], { ...opts, returnWeights: true });
        const plain = att(inputs[0], inputs[1], inputs[2], { offset });
        return [r.out, r.weights as tf.Tensor, ...tf.grads(f)(inputs), tf.sub(r.out, plain.out)];
      }, 'attention with dropout');
    });
  }

  for (const [b, h, tq, d, offset] of [[1, 1, 1, 1, 0], [2, 3, 5, 7, 0], [1, 2, 3, 4, 6], [2, 2, 17, 16, 0]]) {
    it(`causalAttention B${b} H${h} Tq${tq} D${d} offset ${offset}: output, weights, gradients of q, k, v`, async () => {
      const tk = offset + tq;
      const q = randomArray(b * h * tq * d, 16, 2);
      const k = randomArray(b * h * tk * d, 17, 2);
      const v = randomArray(b * h * tk * d, 18);
      const up = randomArray(b * h * tq * d, 19);
      await compare('causalAttention', (att) => {
        const inputs = [tf.tensor4d(q, [b, h, tq, d]), tf.tensor4d(k, [b, h, tk, d]), tf.tensor4d(v, [b, h, tk, d])] as tf.Tensor4D[];
        const f = (qt: tf.Tensor, kt: tf.Tensor, vt: tf.Tensor) =>
          tf.sum(tf.mul(att(qt as tf.Tensor4D, kt as tf.Tensor4D, vt as tf.Tensor4D, { offset }).out, tf.tensor4d(up, [b, h, tq, d])));
        const r = att(inputs[0], inputs[1], inputs[2], { offset, returnWeights: true });
        return [r.out, r.weights as tf.Tensor, ...tf.grads(f)(inputs)];
      }, 'attention');
    });
  }

  it('crossEntropy over 6 rows × 13 classes with ignored rows: loss and gradient', async () => {
    const logits = randomArray(6 * 13, 20, 4);
    const targets = Int32Array.from([0, 12, -100, 5, 5, -100]);
    await compare('crossEntropy', (ce) => {
      const l = tf.tensor2d(logits, [6, 13]);
      const t = tf.tensor1d(targets, 'int32');
      return [ce(l, t), tf.grad((lt: tf.Tensor) => tf.mul(ce(lt as tf.Tensor2D, t), 3))(l)];
    }, 'crossEntropy', 1e-5);
  });

  it('crossEntropy on a 50,257-word row matches, and a bad target is a clear error', async () => {
    const logits = randomArray(3 * 50257, 21, 8);
    const targets = randomInts(3, 50257, 22);
    await compare('crossEntropy', (ce) => {
      const l = tf.tensor2d(logits, [3, 50257]);
      const t = tf.tensor1d(targets, 'int32');
      return [ce(l, t), tf.grad((lt: tf.Tensor) => ce(lt as tf.Tensor2D, t))(l)];
    }, 'crossEntropy large', 1e-5);
    assert.throws(() => nat('crossEntropy')(tf.zeros([2, 4]) as tf.Tensor2D, tf.tensor1d([1, 4], 'int32')), /Target token id 4 .*vocabulary of 4/);
  });

  it('adamw updates param and moments in place as the portable step does, over 3 steps', async () => {
    const p0 = randomArray(37, 23);
    const grads = [randomArray(37, 24), randomArray(37, 25), randomArray(37, 26)];
    const run = (adamw: FusedOps['adamw']) => {
      const p = tf.variable(tf.tensor1d(p0));
      const m = tf.variable(tf.zeros([37]));
      const v = tf.variable(tf.zeros([37]));
      grads.forEach((g, i) => {
        const gt = tf.tensor1d(g);
        adamw(p, gt, m, v, { lr: 0.01, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1, step: i + 1 });
        gt.dispose();
      });
      const out = [p, m, v].map((t) => tf.clone(t));
      [p, m, v].forEach((t) => t.dispose());
      return out;
    };
    const want = await on('cpu', () => run(portable.adamw));
    const got = await on('native', () => run(nat('adamw')));
    want.forEach((w, i) => assertClose(got[i], w, `adamw ${['param', 'm', 'v'][i]}`, 1e-6, 1e-5));
  });

  it('adamw never writes through a buffer another tensor shares', async () => {
    await tf.setBackend('native');
    const init = tf.tensor1d([1, 2, 3]);
    const p = tf.variable(init); // shares init's buffer
    const m = tf.variable(tf.zeros([3]));
    const v = tf.variable(tf.zeros([3]));
    const g = tf.tensor1d([1, 1, 1]);
    nat('adamw')(p, g, m, v, { lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, step: 1 });
    assert.deepEqual(Array.from(init.dataSync()), [1, 2, 3]);
    assertClose(p.dataSync(), [0.9, 1.9, 2.9], 'param', 1e-5);
    [init, p, m, v, g].forEach((t) => t.dispose());
  });

  it('a forward and backward through every fused op leaves no tensor behind', async () => {
    await tf.setBackend('native');
    const table = tf.variable(tf.randomNormal([20, 8]));
    const w = tf.variable(tf.randomNormal([8, 24]));
    const gamma = tf.variable(tf.ones([8]));
    const beta = tf.variable(tf.zeros([8]));
    const ids = tf.tensor2d([[1, 2, 3, 4]], [1, 4], 'int32');
    const targets = tf.tensor1d([2, 3, 4, 5], 'int32');
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      const { grads, value } = tf.variableGrads(() => {
        const x = nat('layerNorm')(nat('embedding')(ids, table as tf.Tensor2D), gamma as tf.Tensor1D, beta as tf.Tensor1D); // (1, 4, 8)
        const [q, k, v] = tf.split(nat('linear')(x, w as tf.Tensor2D), 3, -1).map((t) => tf.reshape(t, [1, 1, 4, 8]) as tf.Tensor4D);
        const a = nat('causalAttention')(q, k, v).out; // (1, 1, 4, 8)
        const h = nat('gelu')(tf.reshape(a, [4, 8])) as tf.Tensor2D;
        return nat('crossEntropy')(nat('lmLogits')(h, table as tf.Tensor2D), targets);
      });
      assert.ok(Number.isFinite(value.dataSync()[0]));
      assert.equal(Object.keys(grads).length, 4);
    });
    assert.equal(tf.memory().numTensors, before);
    [table, w, gamma, beta, ids, targets].forEach((t) => t.dispose());
  });
});
