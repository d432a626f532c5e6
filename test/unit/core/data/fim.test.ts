import * as assert from 'node:assert/strict';
import { checkFimOptions, encodeFimCorpus, fimDocument, fimIds, fimRng, sentinelsAfter, splitForFim } from '../../../../src/core/data/fim';
import type { FimRandom } from '../../../../src/core/data/fim';
import { LlmLabError } from '../../../../src/core/errors';
import { Rng } from '../../../../src/core/rng';

/** Plays back scripted draws: floats and integers in the order the transformation asks for them. */
function scripted(floats: number[], ints: number[]): FimRandom & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    float: () => {
      asked.push('float');
      return floats.shift()!;
    },
    int: (n: number) => {
      asked.push(`int(${n})`);
      return ints.shift()!;
    },
  };
}

/** One id per character (its code), so expected ids can be read off the text. */
const codes = (t: string): number[] => [...t].map((c) => c.codePointAt(0)!);
const S = { prefix: 1000, middle: 1001, suffix: 1002 };

describe('fill-in-the-middle transformation', () => {
  it('gives the sentinels the three ids after the vocabulary', () => {
    assert.deepEqual(sentinelsAfter(50257), { prefix: 50257, middle: 50258, suffix: 50259 });
  });

  it('splits at two character positions and orders the parts PSM (hand-worked)', () => {
    // "abcdefgh": transform (0.1 < 0.5), cuts at 5 and 2 → sorted 2..5, PSM (0.9 ≥ 0.3).
    const rng = scripted([0.1, 0.9], [5, 2]);
    const split = splitForFim('abcdefgh', rng, { rate: 0.5, spmRate: 0.3 });
    assert.deepEqual(split, { order: 'psm', prefix: 'ab', middle: 'cde', suffix: 'fgh' });
    assert.deepEqual(rng.asked, ['float', 'int(9)', 'int(9)', 'float']);
    // <PRE> a b <SUF> f g h <MID> c d e
    assert.deepEqual(fimIds(split, codes, S), [1000, 97, 98, 1002, 102, 103, 104, 1001, 99, 100, 101]);
  });

  it('orders SPM as <PRE><SUF> suffix <MID> prefix middle (hand-worked)', () => {
    const rng = scripted([0.1, 0.2], [1, 3]);
    const ids = fimDocument('wxyz', rng, { rate: 0.5, spmRate: 0.3 }, codes, S);
    // prefix "w", middle "xy", suffix "z".
    assert.deepEqual(ids, [1000, 1002, 122, 1001, 119, 120, 121]);
  });

  it('leaves a document alone when the first draw is not below the rate', () => {
    const rng = scripted([0.5], []);
    assert.deepEqual(fimDocument('abc', rng, { rate: 0.5 }, codes, S), [97, 98, 99]);
    assert.deepEqual(rng.asked, ['float']);
    // Rate 0 draws nothing at all, so a run without FIM keeps its random stream.
    const none = scripted([], []);
    assert.deepEqual(fimDocument('abc', none, { rate: 0 }, codes, S), [97, 98, 99]);
    assert.deepEqual(none.asked, []);
  });

  it('allows empty parts at the ends of the document', () => {
    const split = splitForFim('abc', scripted([0], [3, 0]), { rate: 1 });
    assert.deepEqual(split, { order: 'psm', prefix: '', middle: 'abc', suffix: '' });
    assert.deepEqual(fimIds(split, codes, S), [1000, 1002, 1001, 97, 98, 99]);
  });

  it('never cuts a character in two', () => {
    // "a😀b" is a, two UTF-16 halves, b: a cut at 2 (between the halves) moves to 1.
    const split = splitForFim('a😀b', scripted([0], [2, 4]), { rate: 1 });
    assert.deepEqual(split, { order: 'psm', prefix: 'a', middle: '😀b', suffix: '' });
  });

  it('keeps every character exactly once in every order', () => {
    const rng = new Rng(7);
    const doc = 'function add(a, b) {\n  return a + b;\n}\n';
    let transformed = 0;
    for (let i = 0; i < 200; i++) {
      const s = splitForFim(doc, rng, { rate: 0.5, spmRate: 0.5 });
      assert.equal(s.prefix + s.middle + s.suffix, doc);
      if (s.order) transformed++;
    }
    // 200 draws at rate 0.5: within five standard deviations (±35) of 100.
    assert.ok(Math.abs(transformed - 100) < 35, `${transformed} of 200 transformed`);
  });

  it('refuses rates outside 0..1 with the flag name', () => {
    assert.throws(() => checkFimOptions({ rate: 1.5 }), (e: unknown) => e instanceof LlmLabError && /--fim-rate .* 1\.5/.test(e.message));
    assert.throws(() => checkFimOptions({ rate: 0.5, spmRate: -1 }), /--fim-spm-rate/);
    checkFimOptions({ rate: 0.9, spmRate: 0.5 });
  });
});

describe('fill-in-the-middle corpus encoding', () => {
  /** One id per character (its code); <|endoftext|> is 500. */
  const tok = { eotId: 500, encode: codes };

  it('transforms each document on its own and keeps the separators (hand-worked)', async () => {
    // Document 1 "abc": transformed (0.1 < 0.5), cuts 1 and 2, PSM (0.9 ≥ 0.5): <PRE> a <SUF> c <MID> b.
    // Document 2 "de": left alone (0.7 ≥ 0.5). Document 3 "wxyz": cuts 3 and 1, SPM (0.2 < 0.5):
    // <PRE><SUF> z <MID> w xy. The empty last document (text ending in a separator) draws nothing.
    const rng = scripted([0.1, 0.9, 0.7, 0.3, 0.2], [1, 2, 3, 1]);
    const ids = await encodeFimCorpus('abc<|endoftext|>de<|endoftext|>wxyz<|endoftext|>', tok, { rate: 0.5, spmRate: 0.5 }, S, rng);
    assert.deepEqual([...ids], [1000, 97, 1002, 99, 1001, 98, 500, 100, 101, 500, 1000, 1002, 122, 1001, 119, 120, 121, 500]);
    assert.deepEqual(rng.asked, ['float', 'int(4)', 'int(4)', 'float', 'float', 'float', 'int(5)', 'int(5)', 'float']);
  });

  it('gives the same ids when the documents are read in short runs, and reports progress after each run', async () => {
    // The hand-worked corpus above, one document a run (chunkChars 1): the draws and separators stay the same.
    // Progress counts the characters read, separators (13 characters) included: 3, 3+13+2, 18+13+4, 35+13+0.
    const rng = scripted([0.1, 0.9, 0.7, 0.3, 0.2], [1, 2, 3, 1]);
    const seen: number[] = [];
    const text = 'abc<|endoftext|>de<|endoftext|>wxyz<|endoftext|>';
    const ids = await encodeFimCorpus(text, tok, { rate: 0.5, spmRate: 0.5 }, S, rng, { chunkChars: 1, onProgress: (done) => seen.push(done) });
    assert.deepEqual([...ids], [1000, 97, 1002, 99, 1001, 98, 500, 100, 101, 500, 1000, 1002, 122, 1001, 119, 120, 121, 500]);
    assert.deepEqual(seen, [3, 18, 35, 48]);
    assert.equal(text.length, 48);
  });

  it('gives the same ids for the same seed and other ids for another', async () => {
    const text = Array.from({ length: 30 }, (_, i) => `line ${i} of some text`).join('<|endoftext|>');
    const a = await encodeFimCorpus(text, tok, { rate: 0.5 }, S, fimRng(1));
    const b = await encodeFimCorpus(text, tok, { rate: 0.5 }, S, fimRng(1));
    const c = await encodeFimCorpus(text, tok, { rate: 0.5 }, S, fimRng(2));
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
    // Every character survives: the ids without sentinels and separators are the text's characters, rearranged.
    const chars = (ids: Int32Array) => [...ids].filter((t) => t < 500).sort((x, y) => x - y);
    assert.deepEqual(chars(a), codes(text.replace(/<\|endoftext\|>/g, '')).sort((x, y) => x - y));
  });

  it('stops when cancelled', async () => {
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(encodeFimCorpus('abc', tok, { rate: 1 }, S, fimRng(1), { signal: controller.signal }), /cancel/i);
  });
});
