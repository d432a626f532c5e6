import * as assert from 'node:assert/strict';
import { MergeTable, mergeLarge, mergeSmall } from '../../../../src/core/tokenizer/bpe';
import { buildVocab, utf8Binary } from '../../../../src/core/tokenizer/vocab';
import { Rng } from '../../../../src/core/rng';

describe('BPE merging', () => {
  const vocab = buildVocab('gpt2');
  const table = new MergeTable(vocab);

  it('finds merges by id exactly when the joined bytes are a token', () => {
    const id = (s: string): number => vocab.ranks.get(s) as number;
    assert.equal(table.get(id('Hel'), id('lo')), id('Hello'));
    assert.equal(table.get(id(' wor'), id('ld')), id(' world'));
    assert.equal(table.get(id('Hello'), id('Hello')), 0x7fffffff);
  });

  it('merges the same way with the array scan and the heap, on random pieces', () => {
    const rng = new Rng(11);
    const alphabet = ['a', 'b', 'e', 'th', ' ', 'in', 'g', '\n', 'é', '日'];
    for (let n = 0; n < 300; n++) {
      let s = '';
      const len = 1 + rng.int(40);
      for (let i = 0; i < len; i++) s += alphabet[rng.int(alphabet.length)];
      const bin = utf8Binary(s);
      const small = mergeSmall(bin, table);
      assert.deepEqual(mergeLarge(bin, table), small, JSON.stringify(s));
      // The ids spell the piece's bytes back.
      const spelled = small.map((t) => String.fromCharCode(...vocab.bytes.subarray(vocab.offsets[t], vocab.offsets[t + 1]))).join('');
      assert.equal(spelled, bin);
    }
  });

  it('merges the lowest rank first and the leftmost of equal ranks (a hand-made vocabulary)', () => {
    const ranks = new Map<string, number>([
      ['a', 0],
      ['b', 1],
      ['c', 2],
      ['aa', 3],
      ['bc', 4],
      ['ab', 5],
    ]);
    const tiny = new MergeTable({ ...vocab, ranks });
    for (const merge of [mergeSmall, mergeLarge]) {
      assert.deepEqual(merge('abc', tiny), [0, 4], 'bc (rank 4) merges before ab (rank 5)');
      assert.deepEqual(merge('aaa', tiny), [3, 0], 'of two equal "aa" pairs the left one merges');
      assert.deepEqual(merge('aaaa', tiny), [3, 3]);
      assert.deepEqual(merge('cab', tiny), [2, 5]);
    }
  });
});
