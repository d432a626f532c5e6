// The worker's tokenize and corpus-scan jobs: exact counts, spans that point back into the text, bytes,
// the drawing cap, and a corpus scan that skips binaries and counts tokens as training will.
import * as assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LlmLabError } from '../../../src/core/errors';
import { getTokenizer } from '../../../src/core/tokenizer';
import { saveTokenizer } from '../../../src/core/tokenizer/files';
import { trainBpe } from '../../../src/core/tokenizer/train';
import { previewData, scanCorpus, tokenizeText } from '../../../src/worker/tokenizeJob';

describe('worker tokenize job', () => {
  it('returns the book example ids with spans into the text and each token\'s bytes', () => {
    const text = 'Hello, do you like tea?';
    const r = tokenizeText({ text, encoding: 'gpt2', maxSpans: 100 });
    assert.deepEqual(r.spans.map((s) => s.id), [15496, 11, 466, 345, 588, 8887, 30]);
    assert.equal(r.count, 7);
    assert.equal(r.truncated, false);
    assert.deepEqual(r.spans.map((s) => text.slice(s.start, s.end)), ['Hello', ',', ' do', ' you', ' like', ' tea', '?']);
    assert.deepEqual(r.spans[0].bytes, [...Buffer.from('Hello')]);
  });

  it('tokenizes with a trained tokenizer\'s folder when one is given (the hand-worked merges)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'llm-lab-tokjob-'));
    try {
      await saveTokenizer(join(dir, 'wiki'), (await trainBpe(['aaabdaaabac'], { vocabSize: 260 })).model);
      const text = 'aaabdaaabac';
      const r = tokenizeText({ text, encoding: 'gpt2', maxSpans: 100, tokenizerDir: join(dir, 'wiki') });
      assert.deepEqual(r.spans.map((s) => s.id), [258, 100, 258, 97, 99]);
      assert.deepEqual(r.spans.map((s) => text.slice(s.start, s.end)), ['aaab', 'd', 'aaab', 'a', 'c']);
      assert.throws(() => tokenizeText({ text, encoding: 'gpt2', maxSpans: 1, tokenizerDir: dir }), /holds no tokenizer\.model/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('caps the spans but keeps the count exact', () => {
    const text = 'one two three four five six seven eight nine ten '.repeat(50);
    const full = getTokenizer('gpt2').encode(text).length;
    const r = tokenizeText({ text, encoding: 'gpt2', maxSpans: 12 });
    assert.equal(r.count, full);
    assert.equal(r.spans.length, 12);
    assert.equal(r.truncated, true);
    assert.deepEqual(tokenizeText({ text, encoding: 'gpt2', maxSpans: 0 }), { count: full, spans: [], truncated: false });
  });

  it('uses the chosen encoding', () => {
    const text = 'internationalization      indentation';
    const gpt2 = tokenizeText({ text, encoding: 'gpt2', maxSpans: 1000 });
    const o200k = tokenizeText({ text, encoding: 'o200k_base', maxSpans: 1000 });
    assert.equal(o200k.count, getTokenizer('o200k_base').encode(text).length);
    assert.notDeepEqual(gpt2.spans.map((s) => s.id), o200k.spans.map((s) => s.id));
  });

  it('gives a split multi-byte character\'s bytes to the tokens that hold them', () => {
    const text = '🦙 llama';
    const r = tokenizeText({ text, encoding: 'gpt2', maxSpans: 100 });
    const bytes = r.spans.flatMap((s) => s.bytes);
    assert.deepEqual(bytes, [...Buffer.from(text)]);
    assert.equal(r.spans.at(-1)!.end, text.length);
  });
});

describe('worker corpus scan', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'llmlab-scan-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('uses text files, skips binaries and oversized files with reasons, and counts tokens', async () => {
    writeFileSync(join(dir, 'a.txt'), 'Hello, do you like tea?');
    writeFileSync(join(dir, 'b.txt'), 'In the sunlit terraces');
    writeFileSync(join(dir, 'blob.bin'), Buffer.from([0, 1, 2, 0, 255, 0]));
    writeFileSync(join(dir, 'big.txt'), 'x'.repeat(5000));
    const files = ['a.txt', 'b.txt', 'blob.bin', 'big.txt'].map((f) => join(dir, f));
    const r = await scanCorpus({ files, maxFileBytes: 1000 }, new AbortController().signal);
    assert.deepEqual(r.files.map((f) => f.path), [join(dir, 'a.txt'), join(dir, 'b.txt')]);
    assert.deepEqual(r.skipped.map((s) => s.path).sort(), [join(dir, 'big.txt'), join(dir, 'blob.bin')]);
    const tok = getTokenizer('gpt2');
    const expected = tok.encode('Hello, do you like tea?<|endoftext|>In the sunlit terraces', { allowSpecial: true }).length;
    assert.equal(r.tokens, expected);
  });

  it('refuses a corpus of binaries only, saying why each file was skipped', async () => {
    writeFileSync(join(dir, 'blob.bin'), Buffer.from([0, 0, 0, 1]));
    await assert.rejects(
      scanCorpus({ files: [join(dir, 'blob.bin')], maxFileBytes: 1000 }, new AbortController().signal),
      (e: unknown) => e instanceof LlmLabError && e.code === 'bad-data' && /binary/.test(e.message),
    );
  });

  it('previews training windows: inputs and targets shifted by one, paged by offset', async () => {
    writeFileSync(join(dir, 'a.txt'), 'one two three four five six seven eight nine ten');
    const signal = new AbortController().signal;
    const ids = getTokenizer('gpt2').encode('one two three four five six seven eight nine ten');
    const r = await previewData({ files: [join(dir, 'a.txt')], maxFileBytes: 1000, maxLength: 4, stride: 2, offset: 1, count: 2 }, signal);
    assert.equal(r.totalTokens, ids.length);
    assert.equal(r.totalWindows, Math.floor((ids.length - 4 - 1) / 2) + 1);
    assert.deepEqual(r.windows.map((w) => w.index), [1, 2]);
    assert.deepEqual(r.windows[0].inputIds, ids.slice(2, 6));
    assert.deepEqual(r.windows[0].targetIds, ids.slice(3, 7));
    assert.deepEqual(r.windows[0].inputTokens, [' three', ' four', ' five', ' six']);
  });
});
