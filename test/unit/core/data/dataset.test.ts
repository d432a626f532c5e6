import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CancelledError, LlmLabError } from '../../../../src/core/errors';
import { encodeCorpus, nextTokenSteps, prepareTokens, previewPairs, splitTokens, TokenWindows } from '../../../../src/core/data';
import { getTokenizer } from '../../../../src/core/tokenizer';

const ROOT = join(__dirname, '../../../../..');
const ids10 = Int32Array.from([10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);

describe('token windows', () => {
  it('slides a 4-token window by 1: six full windows, targets one token ahead', () => {
    const w = new TokenWindows(ids10, 4, 1);
    assert.equal(w.count, 6);
    assert.deepEqual(Array.from(w.input(0)), [10, 11, 12, 13]);
    assert.deepEqual(Array.from(w.target(0)), [11, 12, 13, 14]);
    assert.deepEqual(Array.from(w.input(3)), [13, 14, 15, 16]);
    assert.deepEqual(Array.from(w.target(3)), [14, 15, 16, 17]);
    assert.deepEqual(Array.from(w.input(5)), [15, 16, 17, 18]);
    assert.deepEqual(Array.from(w.target(5)), [16, 17, 18, 19]);
    assert.throws(() => w.input(6), LlmLabError);
  });

  it('jumps a 4-token window by 4: two full windows, the tail that cannot fill one is left out', () => {
    const w = new TokenWindows(ids10, 4, 4);
    assert.equal(w.count, 2);
    assert.deepEqual(Array.from(w.input(0)), [10, 11, 12, 13]);
    assert.deepEqual(Array.from(w.target(0)), [11, 12, 13, 14]);
    assert.deepEqual(Array.from(w.input(1)), [14, 15, 16, 17]);
    assert.deepEqual(Array.from(w.target(1)), [15, 16, 17, 18]);
  });

  it('matches the book\'s loop `for i in range(0, len(ids) - max_length, stride)` for many sizes', () => {
    for (let n = 0; n < 30; n++) {
      for (const [len, stride] of [[1, 1], [3, 2], [4, 4], [5, 3], [8, 1]]) {
        let expected = 0;
        for (let i = 0; i < n - len; i += stride) expected++;
        assert.equal(new TokenWindows(new Int32Array(n), len, stride).count, expected, `n=${n} len=${len} stride=${stride}`);
      }
    }
  });

  it('gives views into the stream, not copies', () => {
    const w = new TokenWindows(ids10, 4, 1);
    assert.equal(w.input(2).buffer, ids10.buffer);
    assert.equal(w.target(2).byteOffset, 3 * 4);
  });

  it('rejects a bad length or stride', () => {
    assert.throws(() => new TokenWindows(ids10, 0, 1), (e: unknown) => e instanceof LlmLabError && /context length/.test(e.message));
    assert.throws(() => new TokenWindows(ids10, 4, 0), /stride/);
    assert.throws(() => new TokenWindows(ids10, 2.5, 1), LlmLabError);
  });
});

describe('train/validation split', () => {
  it('keeps the first (1 - f) of the tokens for training and the rest for validation', () => {
    const a = splitTokens(ids10, 0.1);
    assert.deepEqual(Array.from(a.train), [10, 11, 12, 13, 14, 15, 16, 17, 18]);
    assert.deepEqual(Array.from(a.val), [19]);
    const b = splitTokens(new Int32Array(30), 0.1); // 0.9 * 30 is 26.999... in floating point
    assert.deepEqual([b.train.length, b.val.length], [27, 3]);
    const c = splitTokens(new Int32Array(5145), 0.1);
    assert.deepEqual([c.train.length, c.val.length], [4630, 515]);
    const d = splitTokens(ids10, 0);
    assert.deepEqual([d.train.length, d.val.length], [10, 0]);
    assert.equal(a.val.buffer, ids10.buffer);
  });

  it('rejects fractions outside [0, 1)', () => {
    assert.throws(() => splitTokens(ids10, 1), (e: unknown) => e instanceof LlmLabError && /fraction/.test(e.message));
    assert.throws(() => splitTokens(ids10, -0.1), LlmLabError);
    assert.throws(() => splitTokens(ids10, Number.NaN), LlmLabError);
  });
});

describe('corpus encoding and previews', () => {
  const tok = getTokenizer('gpt2');

  it('encodes The Verdict to its 5,145 GPT-2 tokens', async () => {
    const text = readFileSync(join(ROOT, 'samples/the-verdict.txt'), 'utf8');
    const ids = await encodeCorpus(text, tok);
    assert.equal(ids.length, 5145);
    assert.deepEqual(Array.from(ids), tok.encode(text));
  });

  it('encodes chunk by chunk with the same ids as one call, end-of-text tokens between documents', async () => {
    const docs = Array.from({ length: 50 }, (_, i) => `Document ${i}: ${'some words and code(x) '.repeat(i % 7)}\n`);
    const text = docs.join('<|endoftext|>');
    const seen: number[] = [];
    const ids = await encodeCorpus(text, tok, { chunkChars: 100, onProgress: (done) => seen.push(done) });
    assert.deepEqual(Array.from(ids), tok.encode(text, { allowSpecial: true }));
    assert.equal(ids.filter((t) => t === tok.eotId).length, 49);
    assert.ok(seen.length > 5);
    assert.equal(seen[seen.length - 1], text.length);
  });

  it('stops when cancelled', async () => {
    const text = Array.from({ length: 20 }, () => 'abc def').join('<|endoftext|>');
    const ac = new AbortController();
    await assert.rejects(
      encodeCorpus(text, tok, { chunkChars: 10, signal: ac.signal, onProgress: () => ac.abort() }),
      CancelledError,
    );
  });

  it('previews input -> target text pairs and next-token steps', () => {
    const ids = Int32Array.from(tok.encode('I HAD always thought Jack Gisburn rather a cheap genius'));
    const w = new TokenWindows(ids, 4, 4);
    const pairs = previewPairs(w, tok, 5);
    // The book's first data-loader batch (max_length=4, stride=4) starts with these three rows.
    assert.deepEqual(
      pairs.map((p) => p.inputIds),
      [
        [40, 367, 2885, 1464],
        [1807, 3619, 402, 271],
        [10899, 2138, 257, 7026],
      ],
    );
    assert.deepEqual(pairs[0].targetIds, [367, 2885, 1464, 1807]);
    assert.equal(pairs[0].input, 'I HAD always');
    assert.equal(pairs[0].target, ' HAD always thought');
    assert.equal(previewPairs(w, tok, 1).length, 1);
    const steps = nextTokenSteps(w, tok, 0);
    assert.deepEqual(steps[0], { context: 'I', next: ' H' });
    assert.deepEqual(steps[3], { context: 'I HAD always', next: ' thought' });
  });

  it('prepares The Verdict as the book does: 90/10 split, 256-token windows', async () => {
    const text = readFileSync(join(ROOT, 'samples/the-verdict.txt'), 'utf8');
    const p = await prepareTokens(text, tok, { contextLength: 256 });
    assert.equal(p.ids.length, 5145);
    assert.equal(p.train.ids.length, 4630);
    assert.equal(p.train.count, 18); // floor((4630 - 257) / 256) + 1; the book shows 9 batches of 2
    assert.equal(p.val.count, 2); // floor((515 - 257) / 256) + 1; the book shows 1 batch of 2
    assert.deepEqual(Array.from(p.val.input(0).subarray(0, 3)), Array.from(p.ids.subarray(4630, 4633)));
  });

  it('explains when the text is too short for the context length', async () => {
    await assert.rejects(
      prepareTokens('just a few words', tok, { contextLength: 256 }),
      (e: unknown) => e instanceof LlmLabError && e.code === 'bad-data' && /context length/.test(e.message),
    );
    const text = 'word '.repeat(300);
    await assert.rejects(prepareTokens(text, tok, { contextLength: 100 }), (e: unknown) => e instanceof LlmLabError && /validation/.test(e.message));
    const noVal = await prepareTokens(text, tok, { contextLength: 100, valFraction: 0 });
    assert.equal(noVal.val.count, 0);
  });
});
