import * as assert from 'node:assert/strict';
import { argmax, drawFrom, pickToken, samplingDistribution, softmax, topEntries } from '../../../../src/core/generate';
import { Rng } from '../../../../src/core/rng';
import { TokenTextStream } from '../../../../src/core/generate';
import { ToyTokenizer } from './helpers';

const logits = [1.0, 3.0, 0.5, 2.5, -1.0, 2.9];

function frequencies(temperature: number, draws: number, seed: number, extra: { topK?: number; topP?: number } = {}): number[] {
  const rng = new Rng(seed);
  const counts = new Array(logits.length).fill(0);
  for (let i = 0; i < draws; i++) counts[pickToken(logits, { temperature, ...extra }, rng)]++;
  return counts.map((c) => c / draws);
}

function entropy(p: number[]): number {
  return -p.reduce((s, x) => (x > 0 ? s + x * Math.log(x) : s), 0);
}

describe('sampling', () => {
  it('softmax matches a hand computation and sums to 1', () => {
    const p = softmax([0, Math.log(3)]);
    assert.ok(Math.abs(p[0] - 0.25) < 1e-12 && Math.abs(p[1] - 0.75) < 1e-12);
    const q = softmax([0, Math.log(3)], 0.5); // exp(2·ln3) = 9 → 1/10, 9/10
    assert.ok(Math.abs(q[1] - 0.9) < 1e-12);
  });

  it('temperature 0 is the argmax, whatever the generator says', () => {
    const rng = new Rng(3);
    for (let i = 0; i < 20; i++) assert.equal(pickToken(logits, { temperature: 0 }, rng), 1);
    assert.equal(argmax([2, 5, 5, 1]), 1);
  });

  it('draws at temperature 1 with the softmax frequencies', () => {
    const draws = 20000;
    const f = frequencies(1, draws, 123);
    const p = softmax(logits);
    p.forEach((pi, i) => {
      const sd = Math.sqrt((pi * (1 - pi)) / draws);
      assert.ok(Math.abs(f[i] - pi) < 5 * sd + 1e-9, `token ${i}: ${f[i]} vs ${pi}`);
    });
  });

  it('a higher temperature spreads the draws, a lower one sharpens them', () => {
    const cold = frequencies(0.3, 5000, 7);
    const warm = frequencies(1, 5000, 7);
    const hot = frequencies(3, 5000, 7);
    assert.ok(entropy(cold) < entropy(warm) && entropy(warm) < entropy(hot));
    assert.ok(cold[1] > warm[1] && warm[1] > hot[1], 'the favourite loses share as it warms');
    assert.ok(hot[4] > warm[4], 'the least likely gains share');
  });

  it('top-k keeps the k most likely, top-p the smallest nucleus reaching p', () => {
    const k2 = samplingDistribution(logits, { topK: 2 });
    assert.deepEqual([...k2].map((x) => x > 0), [false, true, false, false, false, true]);
    assert.ok(Math.abs(k2[1] + k2[5] - 1) < 1e-12);
    const p = softmax(logits);
    // Tokens by probability: 1, 5, 3, 0, 2, 4. The nucleus for p just above p1+p5 needs token 3 too.
    const nucleus = samplingDistribution(logits, { topP: p[1] + p[5] + 1e-6 });
    assert.deepEqual([...nucleus].map((x) => x > 0), [false, true, false, true, false, true]);
    const exact = samplingDistribution(logits, { topP: (p[1] + p[5]) * 0.999 });
    assert.deepEqual([...exact].map((x) => x > 0), [false, true, false, false, false, true]);
    const f = frequencies(1, 3000, 5, { topK: 3 });
    assert.equal(f[0] + f[2] + f[4], 0);
  });

  it('draws by cumulative mass and never picks a zero-probability token', () => {
    assert.equal(drawFrom([0.2, 0, 0.8], 0.1), 0);
    assert.equal(drawFrom([0.2, 0, 0.8], 0.2), 2);
    assert.equal(drawFrom([0.2, 0.3, 0], 0.9999999), 1);
  });

  it('topEntries returns the n largest, largest first', () => {
    assert.deepEqual(topEntries([0.1, 0.4, 0.05, 0.3, 0.15], 3).map((e) => e.id), [1, 3, 4]);
    assert.deepEqual(topEntries([0.5, 0.5], 5).map((e) => e.id), [0, 1]);
  });
});

describe('TokenTextStream', () => {
  it('holds back half a character until the next token completes it', () => {
    const tok = new ToyTokenizer();
    const s = new TokenTextStream(tok);
    assert.deepEqual(s.push(7), { text: 'h', pending: false });
    assert.deepEqual(s.push(27), { text: '', pending: true });
    assert.deepEqual(s.push(28), { text: '😀', pending: false });
    assert.deepEqual(s.push(29), { text: '', pending: true });
    assert.equal(s.flush(), '\uFFFD');
    assert.equal(s.text, tok.decode([7, 27, 28, 29]));
  });
});
