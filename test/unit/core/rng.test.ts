import * as assert from 'node:assert/strict';
import { LlmLabError } from '../../../src/core/errors';
import { Rng } from '../../../src/core/rng';

describe('Rng', () => {
  it('is xoshiro128** (matches values computed by an independent Python implementation from state [1,2,3,4])', () => {
    const r = Rng.fromState([1, 2, 3, 4]);
    assert.deepEqual(
      Array.from({ length: 6 }, () => r.nextUint32()),
      [11520, 0, 5927040, 70819200, 2031721883, 1637235492],
    );
  });

  it('gives equal streams for equal seeds and different streams for different seeds', () => {
    const draw = (seed: number): number[] => {
      const r = new Rng(seed);
      return Array.from({ length: 20 }, () => r.nextUint32());
    };
    assert.deepEqual(draw(42), draw(42));
    assert.notDeepEqual(draw(42), draw(43));
    assert.notDeepEqual(draw(0), draw(2 ** 32)); // the high bits of a seed count too
  });

  it('resumes exactly from a saved state', () => {
    const a = new Rng(7);
    for (let i = 0; i < 13; i++) a.nextUint32();
    const saved = a.getState();
    assert.equal(saved.length, 4);
    const expected = Array.from({ length: 50 }, () => a.float());
    const b = Rng.fromState(JSON.parse(JSON.stringify(saved)) as number[]);
    assert.deepEqual(Array.from({ length: 50 }, () => b.float()), expected);
  });

  it('draws floats in [0, 1) and unbiased integers in [0, n)', () => {
    const r = new Rng(1);
    const counts = new Array<number>(7).fill(0);
    for (let i = 0; i < 70_000; i++) {
      const f = r.float();
      assert.ok(f >= 0 && f < 1);
      counts[r.int(7)]++;
    }
    for (const c of counts) assert.ok(Math.abs(c - 10_000) < 500, `count ${c} is far from 10000`);
    const big = r.int(2 ** 32);
    assert.ok(Number.isInteger(big) && big >= 0 && big < 2 ** 32);
  });

  it('draws standard normals with mean ~0 and variance ~1', () => {
    const r = new Rng(3);
    let sum = 0;
    let sq = 0;
    const n = 20_000;
    for (let i = 0; i < n; i++) {
      const x = r.normal();
      sum += x;
      sq += x * x;
    }
    assert.ok(Math.abs(sum / n) < 0.05);
    assert.ok(Math.abs(sq / n - 1) < 0.05);
  });

  it('fills arrays with N(0, std²): the moments and tail mass, seeded', () => {
    const n = 2_000_000;
    const a = new Rng(11).fillNormal(new Float32Array(n), 0.02);
    let sum = 0, sq = 0, quad = 0;
    const beyond = [0, 0, 0]; // |x| > 1σ, 2σ, 3σ
    for (const v of a) {
      const x = v / 0.02;
      sum += x;
      sq += x * x;
      quad += x ** 4;
      for (let k = 0; k < 3; k++) if (Math.abs(x) > k + 1) beyond[k]++;
    }
    // Standard normal: mean 0, variance 1, fourth moment 3; P(|x| > 1, 2, 3) = 0.31731, 0.04550, 0.0026998.
    assert.ok(Math.abs(sum / n) < 0.003, `mean ${sum / n}`);
    assert.ok(Math.abs(sq / n - 1) < 0.004, `variance ${sq / n}`);
    assert.ok(Math.abs(quad / n - 3) < 0.03, `fourth moment ${quad / n}`);
    const want = [0.31731, 0.0455, 0.0026998];
    beyond.forEach((c, k) => assert.ok(Math.abs(c / n - want[k]) < 4 * Math.sqrt(want[k] / n), `P(|x| > ${k + 1}σ) = ${c / n}, want ${want[k]}`));
    // Seeded: the same seed gives the same array, another seed another one, and the state moves on.
    assert.deepEqual(new Rng(11).fillNormal(new Float32Array(1000), 0.02), a.subarray(0, 1000));
    assert.notDeepEqual(new Rng(12).fillNormal(new Float32Array(1000), 0.02), a.subarray(0, 1000));
    const r = new Rng(11);
    const first = r.fillNormal(new Float32Array(10), 1);
    assert.notDeepEqual(r.fillNormal(new Float32Array(10), 1), first);
  });

  it('shuffles into a permutation, the same one for the same seed', () => {
    const a = new Rng(5).shuffle(Array.from({ length: 100 }, (_, i) => i));
    const b = new Rng(5).shuffle(Int32Array.from({ length: 100 }, (_, i) => i));
    assert.deepEqual(Array.from(b), a);
    assert.deepEqual([...a].sort((x, y) => x - y), Array.from({ length: 100 }, (_, i) => i));
    assert.notDeepEqual(a, Array.from({ length: 100 }, (_, i) => i));
  });

  it('rejects bad seeds, bounds and states with a clear error', () => {
    assert.throws(() => new Rng(Number.NaN), (e: unknown) => e instanceof LlmLabError && /seed/.test(e.message));
    assert.throws(() => new Rng(1).int(0), LlmLabError);
    assert.throws(() => new Rng(1).int(2.5), LlmLabError);
    assert.throws(() => Rng.fromState([0, 0, 0, 0]), LlmLabError);
    assert.throws(() => Rng.fromState([1, 2, 3]), LlmLabError);
    assert.throws(() => Rng.fromState([1, 2, 3, -1]), LlmLabError);
  });
});
