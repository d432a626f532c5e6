// The seeded dropout mask against values computed independently (a Python transcription of the same hash,
// run when this test was written), its keep rate, and inverted dropout as a model uses it: zero or x/(1 − rate),
// the same for the same seed, different for another, and a gradient through the same mask.
import * as assert from 'node:assert/strict';
import { initEngine, tf } from '../../../../src/core/engine';
import { dropoutBits, dropoutFactors, dropoutMask, mix32 } from '../../../../src/core/engine/dropoutMask';
import { dropout } from '../../../../src/core/engine/ops';

/** The first `n` keep (1) / drop (0) decisions of a mask. */
function pattern(rate: number, seed: number, n: number): string {
  const m = dropoutMask(rate, seed);
  return Array.from({ length: n }, (_, i) => (dropoutBits(m.k0, m.k1, i) >= m.threshold ? '1' : '0')).join('');
}

describe('seeded dropout masks', () => {
  it('hashes as the independent reference does', () => {
    assert.deepEqual([0, 1, 0xdeadbeef, 0xffffffff].map(mix32), [0, 0x688990c0, 0xe628c683, 0x6768824a]);
    assert.deepEqual(dropoutMask(0.1, 0), { threshold: 429496729, k0: 0, k1: 33350994, scale: Math.fround(1 / 0.9) });
    assert.deepEqual(dropoutMask(0.5, 7), { threshold: 2147483648, k0: 2492178918, k1: 2667841471, scale: 2 });
    // Seeds past 2³² use their high bits too (a model derives per-layer seeds as seed·7919 + k).
    assert.deepEqual(dropoutMask(0.5, 2 ** 32 + 5), { threshold: 2147483648, k0: 3222836916, k1: 3482453620, scale: 2 });
    assert.equal(pattern(0.5, 0, 24), '111010001001101001101010');
    assert.equal(pattern(0.5, 7, 24), '101011111101010111100000');
    assert.equal(pattern(0.5, 5, 24), '010110000100010111101010');
    assert.equal(pattern(0.5, 2 ** 32 + 5, 24), '101111101010100010000011');
  });

  it('keeps 1 − rate of the elements (90,121 of 100,000 at rate 0.1, seed 123, as the reference counts)', () => {
    const f = dropoutFactors(dropoutMask(0.1, 123), 100_000);
    const kept = f.filter((v) => v !== 0);
    assert.equal(kept.length, 90_121);
    assert.ok(kept.every((v) => v === Math.fround(1 / 0.9)));
  });

  it('drops in a model as inverted dropout: 0 or x/(1 − rate), seeded, with the gradient through the same mask', async () => {
    await initEngine('cpu');
    const x = tf.reshape(tf.range(1, 201, 1, 'float32'), [8, 25]);
    const a = await dropout(x, 0.5, 9).data();
    const b = await dropout(x, 0.5, 9).data();
    const c = await dropout(x, 0.5, 10).data();
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
    const m = dropoutFactors(dropoutMask(0.5, 9), 200);
    a.forEach((v, i) => assert.equal(v, m[i] === 0 ? 0 : (i + 1) * 2, `element ${i}`));
    const g = await tf.grad((t: tf.Tensor) => tf.sum(dropout(t, 0.5, 9)))(x).data();
    g.forEach((v, i) => assert.equal(v, m[i], `gradient ${i}`));
    assert.equal(dropout(x, 0, 9), x, 'rate 0 is the identity');
    x.dispose();
  });
});
