// Preparing labelled rows as the book's chapter 6 does: balancing by undersampling, a seeded 70/10/20 split
// (sizes as the book computes them), padding with the end-of-text token, and the errors for classes that
// would be missing from training.
import * as assert from 'node:assert/strict';
import { padRows, splitRows, splitSizes } from '../../../../src/core/classify/dataset';
import type { LabelledText } from '../../../../src/core/classify/records';

function rows(counts: Record<string, number>): LabelledText[] {
  const out: LabelledText[] = [];
  for (const [label, n] of Object.entries(counts)) for (let i = 0; i < n; i++) out.push({ label, text: `${label} ${i}`, line: out.length + 1 });
  return out;
}

describe('classification data (dataset)', () => {
  it('splits sizes as the book: train floor(0.7n), validation floor(0.1n), test the rest', () => {
    // The book's balanced spam set: 1,494 rows → 1,045 / 149 / 300.
    assert.deepEqual(splitSizes(1494, 0.1, 0.2), { train: 1045, val: 149, test: 300 });
    assert.deepEqual(splitSizes(10, 0.1, 0.2), { train: 7, val: 1, test: 2 });
    assert.deepEqual(splitSizes(10, 0, 0), { train: 10, val: 0, test: 0 });
  });

  it('balances by undersampling every class to the smallest, then splits every row once', () => {
    const all = rows({ ham: 4827, spam: 747 });
    const s = splitRows('sms.tsv', all, { balance: true, valFraction: 0.1, testFraction: 0.2, seed: 123 });
    assert.deepEqual(s.labels, ['ham', 'spam']);
    assert.deepEqual(s.perClass, { ham: 4827, spam: 747 });
    assert.deepEqual(s.perClassBalanced, { ham: 747, spam: 747 });
    assert.deepEqual([s.train.length, s.val.length, s.test.length], [1045, 149, 300]);
    const seen = new Set([...s.train, ...s.val, ...s.test].map((r) => r.line));
    assert.equal(seen.size, 1494);
    assert.equal([...s.train, ...s.val, ...s.test].filter((r) => r.label === 'spam').length, 747);
  });

  it('is seeded: the same seed gives the same split, another seed another one', () => {
    const all = rows({ a: 30, b: 20 });
    const o = { balance: false, valFraction: 0.1, testFraction: 0.2, seed: 7 };
    const one = splitRows('f', all, o).train.map((r) => r.line);
    assert.deepEqual(splitRows('f', all, o).train.map((r) => r.line), one);
    assert.notDeepEqual(splitRows('f', all, { ...o, seed: 8 }).train.map((r) => r.line), one);
  });

  it('refuses, with its line, a label that lands only in validation or test', () => {
    const all = [...rows({ a: 20, b: 20 }), { label: 'rare', text: 'only one', line: 41 }];
    let refused = 0;
    for (let seed = 0; seed < 10; seed++) {
      try {
        const s = splitRows('f.tsv', all, { balance: false, valFraction: 0.1, testFraction: 0.2, seed });
        assert.ok(s.train.some((r) => r.label === 'rare'), 'a split that goes through has the rare label in training');
      } catch (e) {
        assert.match((e as Error).message, /^f\.tsv:41: label 'rare' \(1 example\(s\)\) is only in the (validation|test) split/);
        refused++;
      }
    }
    assert.ok(refused > 0, 'with 30% held out, some seed puts the single example outside training');
  });

  it('refuses splits too small to use', () => {
    assert.throws(() => splitRows('s.tsv', rows({ a: 2, b: 2 }), { balance: false, valFraction: 0.1, testFraction: 0.2, seed: 1 }), /no validation example at --val-fraction 0.1/);
  });

  it('pads with the pad id to the given length, cutting longer rows, and keeps each real length (worked by hand)', () => {
    const p = padRows([[5, 6], [7, 8, 9, 10, 11], [12]], [1, 0, 1], 4, 99);
    assert.deepEqual([...p.ids], [5, 6, 99, 99, 7, 8, 9, 10, 12, 99, 99, 99]);
    assert.deepEqual([...p.lengths], [2, 4, 1]);
    assert.deepEqual([...p.targets], [1, 0, 1]);
    assert.equal(p.truncated, 1);
    assert.equal(p.tokens, 7);
  });
});
