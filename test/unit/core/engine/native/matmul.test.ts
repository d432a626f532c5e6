// The native BatchMatMul/_FusedMatMul kernels against a naive triple loop: odd shapes, every transpose
// mode, batches with broadcasting, bias, gradients (which go through the same kernel), and no leaks.
import * as assert from 'node:assert/strict';
import { tf } from '../../../../../src/core/engine';
import { assertClose, on, randomArray, requireNative } from './helpers';

/** C[b] = op(A[b])·op(B[b]) with plain loops; a (batchA, r, c), b (batchB, r, c) row-major. */
function naive(a: Float32Array, aShape: number[], b: Float32Array, bShape: number[], ta: boolean, tb: boolean): Float32Array {
  const [ba, ar, ac] = aShape;
  const [bb, br, bc] = bShape;
  const m = ta ? ac : ar;
  const k = ta ? ar : ac;
  const n = tb ? br : bc;
  const batch = Math.max(ba, bb);
  const out = new Float32Array(batch * m * n);
  for (let z = 0; z < batch; z++) {
    const ao = (ba === 1 ? 0 : z) * ar * ac;
    const bo = (bb === 1 ? 0 : z) * br * bc;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) {
          const av = ta ? a[ao + p * ac + i] : a[ao + i * ac + p];
          const bv = tb ? b[bo + j * bc + p] : b[bo + p * bc + j];
          s += av * bv;
        }
        out[z * m * n + i * n + j] = s;
      }
    }
  }
  return out;
}

describe('native matmul', function () {
  before(async function () {
    await requireNative(this);
  });
  after(async () => {
    await tf.setBackend('cpu');
  });

  const shapes: Array<[number, number, number]> = [
    [1, 1, 1],
    [3, 5, 7],
    [17, 33, 65],
    [6, 16, 256],
    [7, 300, 257],
    [150, 40, 3],
    [1, 1000, 64], // one generated token against a wide matrix: the few-rows path
    [2, 300, 257],
  ];
  for (const [m, n, k] of shapes) {
    for (const ta of [false, true]) {
      for (const tb of [false, true]) {
        it(`${m}×${k} by ${k}×${n}, transposeA=${ta}, transposeB=${tb}`, async () => {
          const aShape = ta ? [1, k, m] : [1, m, k];
          const bShape = tb ? [1, n, k] : [1, k, n];
          const a = randomArray(m * k, m * 31 + k);
          const b = randomArray(k * n, n * 17 + k);
          const [got] = await on('native', () =>
            tf.matMul(tf.tensor2d(a, aShape.slice(1) as [number, number]), tf.tensor2d(b, bShape.slice(1) as [number, number]), ta, tb),
          );
          assertClose(got, naive(a, aShape, b, bShape, ta, tb), 'matmul', 1e-4 * Math.sqrt(k), 1e-4);
        });
      }
    }
  }

  it('batched and broadcast (3 × 5×7 by 7×4, 1 × 7×4, and B transposed)', async () => {
    const a = randomArray(3 * 5 * 7, 1);
    const b3 = randomArray(3 * 7 * 4, 2);
    const b1 = randomArray(7 * 4, 3);
    const [full, bcast, tr] = await on('native', () => [
      tf.matMul(tf.tensor3d(a, [3, 5, 7]), tf.tensor3d(b3, [3, 7, 4])),
      tf.matMul(tf.tensor3d(a, [3, 5, 7]), tf.tensor3d(b1, [1, 7, 4])),
      tf.matMul(tf.tensor3d(a, [3, 5, 7]), tf.tensor3d(b3, [3, 4, 7]), false, true),
    ]);
    assertClose(full, naive(a, [3, 5, 7], b3, [3, 7, 4], false, false), 'batched');
    assertClose(bcast, naive(a, [3, 5, 7], b1, [1, 7, 4], false, false), 'broadcast B');
    assertClose(tr, naive(a, [3, 5, 7], b3, [3, 4, 7], false, true), 'batched transposeB');
  });

  it('4-D attention-shaped batches match the cpu backend', async () => {
    const q = randomArray(2 * 3 * 9 * 8, 4);
    const k = randomArray(2 * 3 * 9 * 8, 5);
    const f = () => tf.matMul(tf.tensor4d(q, [2, 3, 9, 8]), tf.tensor4d(k, [2, 3, 9, 8]), false, true);
    const [want] = await on('cpu', f);
    const [got] = await on('native', f);
    assertClose(got, want, 'qkᵀ');
  });

  it('fused matmul adds the bias; other activations match the cpu backend', async () => {
    const a = randomArray(13 * 9, 6);
    const b = randomArray(9 * 21, 7);
    const bias = randomArray(21, 8);
    const f = () => [
      tf.fused.matMul({ a: tf.tensor2d(a, [13, 9]), b: tf.tensor2d(b, [9, 21]), bias: tf.tensor1d(bias) }),
      tf.fused.matMul({ a: tf.tensor2d(a, [13, 9]), b: tf.tensor2d(b, [9, 21]), bias: tf.tensor1d(bias), activation: 'relu' }),
    ];
    const want = await on('cpu', f);
    const got = await on('native', f);
    assertClose(got[0], want[0], 'bias');
    assertClose(got[1], want[1], 'bias + relu');
  });

  it('gradients of a transposed matmul match the cpu backend', async () => {
    const a = randomArray(11 * 6, 9);
    const b = randomArray(14 * 6, 10);
    const f = () => tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.square(tf.matMul(x, y, false, true))))([
      tf.tensor2d(a, [11, 6]),
      tf.tensor2d(b, [14, 6]),
    ]);
    const want = await on('cpu', f);
    const got = await on('native', f);
    assertClose(got[0], want[0], 'dA', 1e-3);
    assertClose(got[1], want[1], 'dB', 1e-3);
  });

  it('does not leak tensors', async () => {
    await tf.setBackend('native');
    const a = tf.randomNormal([8, 16]);
    const b = tf.randomNormal([16, 5]);
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.matMul(x, y)))([a, b]);
    });
    assert.equal(tf.memory().numTensors, before);
    a.dispose();
    b.dispose();
  });
});
