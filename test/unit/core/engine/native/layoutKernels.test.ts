// The native data-movement kernels (Slice, SplitV, Transpose, Concat, PadV2, broadcast Add and Multiply, Square,
// last-axis ArgMax, leading-axis Sum)
// against the cpu backend, and
// the output-buffer pool: a recycled buffer never overwrites data a caller has read or still holds.
import * as assert from 'node:assert/strict';
import { tf } from '../../../../../src/core/engine';
import { nativeBackend } from '../../../../../src/core/engine/native/backend';
import { assertClose, on, randomArray, requireNative } from './helpers';

describe('native layout kernels and buffer pool', function () {
  before(async function () {
    await requireNative(this);
  });
  after(async () => {
    await tf.setBackend('cpu');
  });

  it('slices (strided and contiguous, float and int) match the cpu backend', async () => {
    const x = randomArray(3 * 5 * 7, 1);
    const f = () => [
      tf.slice(tf.tensor3d(x, [3, 5, 7]), [1, 2, 3], [2, 3, 4]),
      tf.slice(tf.tensor3d(x, [3, 5, 7]), [1, 0, 0], [1, -1, -1]),
      tf.cast(tf.slice(tf.tensor2d(Int32Array.from(x, (v) => Math.round(v * 100)), [15, 7], 'int32'), [0, 1], [15, 5]), 'float32'),
    ];
    const want = await on('cpu', f);
    const got = await on('native', f);
    want.forEach((w, i) => assertClose(got[i], w, `slice ${i}`, 0, 0));
  });

  it('split along the last and a middle axis matches the cpu backend', async () => {
    const x = randomArray(2 * 6 * 9, 2);
    const f = () => [...tf.split(tf.tensor3d(x, [2, 6, 9]), 3, -1), ...tf.split(tf.tensor3d(x, [2, 6, 9]), [1, 5], 1)];
    const want = await on('cpu', f);
    const got = await on('native', f);
    want.forEach((w, i) => assertClose(got[i], w, `split ${i}`, 0, 0));
  });

  it('transposes (4-D heads swap, 2-D, 5-D reversal) match the cpu backend', async () => {
    const x = randomArray(2 * 3 * 4 * 5 * 2, 3);
    const f = () => [
      tf.transpose(tf.tensor4d(x.subarray(0, 120), [2, 3, 4, 5]), [0, 2, 1, 3]),
      tf.transpose(tf.tensor2d(x.subarray(0, 35), [5, 7])),
      tf.transpose(tf.tensor(x, [2, 3, 4, 5, 2]), [4, 3, 2, 1, 0]),
    ];
    const want = await on('cpu', f);
    const got = await on('native', f);
    want.forEach((w, i) => assertClose(got[i], w, `transpose ${i}`, 0, 0));
  });

  it('adds same shapes and trailing-dim broadcasts either way round, like the cpu backend', async () => {
    const a = randomArray(4 * 8 * 64, 4);
    const b = randomArray(8 * 64, 5);
    const f = () => [
      tf.add(tf.tensor3d(a, [4, 8, 64]), tf.tensor3d(a, [4, 8, 64])),
      tf.add(tf.tensor3d(a, [4, 8, 64]), tf.tensor2d(b, [8, 64])),
      tf.add(tf.tensor3d(b, [1, 8, 64]), tf.tensor3d(a, [4, 8, 64])),
      tf.add(tf.tensor3d(a, [4, 8, 64]), tf.tensor3d(a.subarray(0, 4 * 64), [4, 1, 64])), // not a suffix: cpu path
    ];
    const want = await on('cpu', f);
    const got = await on('native', f);
    want.forEach((w, i) => assertClose(got[i], w, `add ${i}`, 1e-6));
  });

  it('multiplies (same shapes, a row vector, a scalar, either way round) and squares exactly like the cpu backend', async () => {
    const a = randomArray(4 * 8 * 64, 14);
    const b = randomArray(8 * 64, 15);
    const f = () => [
      tf.mul(tf.tensor3d(a, [4, 8, 64]), tf.tensor3d(a, [4, 8, 64])),
      tf.mul(tf.tensor3d(a, [4, 8, 64]), tf.tensor2d(b, [8, 64])),
      tf.mul(tf.tensor1d(b.subarray(0, 64)), tf.tensor3d(a, [4, 8, 64])),
      tf.mul(tf.tensor3d(a, [4, 8, 64]), tf.scalar(-0.375)),
      tf.mul(tf.scalar(3), tf.tensor2d(b, [8, 64])),
      tf.mul(tf.tensor3d(a, [4, 8, 64]), tf.tensor3d(a.subarray(0, 4 * 64), [4, 1, 64])), // not a suffix: cpu path
      tf.square(tf.tensor3d(a, [4, 8, 64])),
      tf.square(tf.tensor1d(b.subarray(0, 10))), // small: cpu path
    ];
    const want = await on('cpu', f);
    const got = await on('native', f);
    want.forEach((w, i) => assertClose(got[i], w, `mul/square ${i}`, 0, 0));
  });

  it('takes the arg max of the last axis like the cpu backend (the first of equal maxima; NaN as the cpu backend treats it)', async () => {
    const x = randomArray(6 * 300, 16);
    const ties = new Float32Array(300).fill(1);
    ties[7] = 5;
    ties[200] = 5;
    const nan = Float32Array.from({ length: 300 }, (_, i) => (i === 0 ? NaN : i === 3 ? 9 : 0));
    const nanLater = Float32Array.from({ length: 300 }, (_, i) => (i === 5 ? NaN : i === 9 ? 2 : 1));
    const f = () => [
      tf.cast(tf.argMax(tf.tensor2d(x, [6, 300]), -1), 'float32'),
      tf.cast(tf.argMax(tf.tensor3d(x, [2, 3, 300]), 2), 'float32'),
      tf.cast(tf.argMax(tf.tensor1d(ties)), 'float32'),
      tf.cast(tf.argMax(tf.tensor1d(nan)), 'float32'),
      tf.cast(tf.argMax(tf.tensor1d(nanLater)), 'float32'),
      tf.cast(tf.argMax(tf.tensor2d(x, [6, 300]), 0), 'float32'), // not the last axis: cpu path
    ];
    const want = await on('cpu', f);
    const got = await on('native', f);
    want.forEach((w, i) => assertClose(got[i], w, `argMax ${i}`, 0, 0));
    assert.deepEqual(Array.from(got[2]), [7]);
    assert.deepEqual(Array.from(got[4]), [9]);
  });

  it('concatenates along the first, a middle and the last axis (float, int, an empty part) like the cpu backend', async () => {
    const a = randomArray(2 * 3 * 70000, 6); // large enough to come from the recycled-buffer pool
    const b = randomArray(2 * 5 * 70000, 7);
    const f = () => {
      const x = tf.tensor3d(a, [2, 3, 70000]);
      const y = tf.tensor3d(b, [2, 5, 70000]);
      const small = tf.tensor3d(a.subarray(0, 2 * 3 * 4), [2, 3, 4]);
      return [
        tf.concat([x, y], 1),
        tf.concat([small, tf.tensor3d(b.subarray(0, 2 * 3 * 7), [2, 3, 7]), tf.zeros([2, 3, 0])], 2),
        tf.concat([small, small, small], 0),
        tf.cast(tf.concat([tf.tensor2d([1, 2, 3, 4], [2, 2], 'int32'), tf.tensor2d([5, 6], [2, 1], 'int32')], 1), 'float32'),
      ];
    };
    const want = await on('cpu', f);
    const got = await on('native', f);
    want.forEach((w, i) => assertClose(got[i], w, `concat ${i}`, 0, 0));
    // Worked by hand: [[1, 2], [3, 4]] next to [[5], [6]] is [[1, 2, 5], [3, 4, 6]].
    assert.deepEqual([...got[3]], [1, 2, 5, 3, 4, 6]);
  });

  it('pads with a constant in every dimension like the cpu backend', async () => {
    const x = randomArray(256 * 4, 8);
    const f = () => [
      tf.pad(tf.tensor3d(x.subarray(0, 60), [3, 4, 5]), [[1, 2], [0, 3], [2, 1]], 0.5),
      tf.pad(tf.tensor2d(x.subarray(0, 256 * 4), [256, 4]), [[0, 768], [0, 0]]), // a position-embedding gradient's shape
      tf.pad(tf.tensor1d([1, 2]), [[1, 2]], 9),
    ];
    const want = await on('cpu', f);
    const got = await on('native', f);
    want.forEach((w, i) => assertClose(got[i], w, `pad ${i}`, 0, 0));
    assert.deepEqual([...got[2]], [9, 1, 2, 9, 9]);
  });

  it('sums over leading axes (with and without kept dims, everything) like the cpu backend; other axes too', async () => {
    const x = randomArray(4 * 6 * 300, 9);
    const f = () => {
      const t = tf.tensor3d(x, [4, 6, 300]);
      return [tf.sum(t, 0), tf.sum(t, [0, 1]), tf.sum(t, [0, 1], true), tf.sum(t), tf.sum(t, -1), tf.sum(t, [1, 0])];
    };
    const want = await on('cpu', f);
    const got = await on('native', f);
    want.forEach((w, i) => assertClose(got[i], w, `sum ${i}`, 1e-4, 1e-5));
    const shapes = await (async () => {
      await tf.setBackend('native');
      return tf.tidy(() => [tf.sum(tf.ones([2, 3, 4]), [0, 1], true).shape, tf.sum(tf.ones([2, 3, 4]), 0).shape]);
    })();
    assert.deepEqual(shapes, [[1, 1, 4], [3, 4]]);
    // Worked by hand: the columns of [[1, 2], [3, 4]] sum to [4, 6].
    assert.deepEqual([...(await on('native', () => tf.sum(tf.tensor2d([1, 2, 3, 4], [2, 2]), 0)))[0]], [4, 6]);
  });

  it('never recycles a buffer whose values a caller read', async () => {
    await tf.setBackend('native');
    const n = 1 << 17;
    const a = tf.tensor1d(randomArray(n, 6));
    const y = tf.add(a, a); // a native output large enough for the pool
    const seen = y.dataSync();
    const copy = Float32Array.from(seen);
    y.dispose();
    const z = tf.add(a, tf.onesLike(a)); // same size: would reuse y's buffer if it were recycled
    assert.deepEqual(seen, copy);
    [a, z].forEach((t) => t.dispose());
  });

  it('recycles an unread buffer and overwrites it fully', async () => {
    await tf.setBackend('native');
    const n = 1 << 17;
    const a = tf.fill([n], 2);
    const y = tf.add(a, a);
    y.dispose();
    const before = tf.memory().numBytes;
    const z = tf.add(a, tf.fill([n], 1)); // reuses y's buffer; every element must be 3
    assert.ok(tf.memory().numBytes > before);
    assert.ok(z.dataSync().every((v) => v === 3));
    [a, z].forEach((t) => t.dispose());
    nativeBackend().releasePool();
  });
});
