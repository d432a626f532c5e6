import * as assert from 'node:assert/strict';
import { get_encoding } from 'tiktoken';
import { buildCompletionPrompt, headTokens, promptBudget, tailTokens } from '../../../../src/core/complete';
import { LlmLabError } from '../../../../src/core/errors';
import { getTokenizer } from '../../../../src/core/tokenizer';

/** One id per character: a..z are 0..25, anything else 26; <|endoftext|> is 99. */
const chars = {
  eotId: 99,
  encode: (text: string) => [...text].map((c) => (c >= 'a' && c <= 'z' ? c.charCodeAt(0) - 97 : 26)),
};

describe('completion context', () => {
  it('keeps the prompt within the context minus the new tokens', () => {
    assert.equal(promptBudget({ contextLength: 64, maxNewTokens: 16 }), 48);
    assert.equal(promptBudget({ contextLength: 64, maxNewTokens: 16, fim: { prefix: 1, middle: 2, suffix: 3 } }), 45);
    assert.throws(() => promptBudget({ contextLength: 16, maxNewTokens: 16 }), (e: unknown) => e instanceof LlmLabError && /maxNewTokens below 16/.test(e.message));
  });

  it('keeps the end of the prefix (hand-worked, one token per character)', () => {
    // "abcdef" with room for 4 tokens after 2 of 6 positions go to new tokens: c d e f.
    const p = buildCompletionPrompt(chars, { prefix: 'abcdef' }, { contextLength: 6, maxNewTokens: 2 });
    assert.deepEqual(p.ids, [2, 3, 4, 5]);
    assert.equal(p.prefixTokens, 4);
    assert.equal(p.fim, false);
    // The suffix is not used without fill-in-the-middle sentinels.
    assert.deepEqual(buildCompletionPrompt(chars, { prefix: 'ab', suffix: 'xyz' }, { contextLength: 8, maxNewTokens: 2 }).ids, [0, 1]);
  });

  it('starts an empty prompt from <|endoftext|>', () => {
    assert.deepEqual(buildCompletionPrompt(chars, { prefix: '' }, { contextLength: 8, maxNewTokens: 2 }).ids, [99]);
  });

  it('cuts GPT-2 tokens at a token boundary of the whole encoding, as Rust tiktoken encodes', () => {
    const tok = getTokenizer('gpt2');
    const ref = get_encoding('gpt2');
    try {
      const text = 'The quick brown fox jumps over the lazy dog, again and again';
      const all = Array.from(ref.encode(text));
      const ids = tailTokens(tok, text, 5);
      assert.deepEqual(ids, all.slice(-5));
      // The kept text is whole words: " the lazy dog, again and again" minus what fell before the cut.
      assert.ok(text.endsWith(tok.decode(ids)));
      assert.match(tok.decode(ids), /^ \w+/);
      // A prefix the editor already cut ("ick brown ...") loses its first, partial token.
      const cut = text.slice(6);
      assert.deepEqual(tailTokens(tok, cut, 100, true), Array.from(ref.encode(cut)).slice(1));
      assert.equal(tok.decode(tailTokens(tok, cut, 100, true)).startsWith(' brown'), true);
    } finally {
      ref.free();
    }
  });

  it('keeps the start of the suffix, dropping a last token the editor cut', () => {
    assert.deepEqual(headTokens(chars, 'abcdef', 3), [0, 1, 2]);
    assert.deepEqual(headTokens(chars, 'abc', 10, true), [0, 1]);
  });

  it('lays out a fill-in-the-middle prompt as prefix, suffix, middle (hand-worked)', () => {
    const fim = { prefix: 90, middle: 91, suffix: 92 };
    // Context 12, 2 new tokens, 3 sentinels: 7 tokens for both sides. The prefix "abcdef" (6) leaves 1 for
    // the suffix, but the suffix's share is floor(7 × 0.25) = 1 as well: prefix keeps its last 6, suffix 1.
    const p = buildCompletionPrompt(chars, { prefix: 'abcdef', suffix: 'xyz' }, { contextLength: 12, maxNewTokens: 2, fim });
    assert.deepEqual(p.ids, [90, 0, 1, 2, 3, 4, 5, 92, 23, 91]);
    assert.deepEqual([p.prefixTokens, p.suffixTokens, p.fim], [6, 1, true]);
    // A long prefix gives up room to the suffix's share: 7 × 0.5 = 3 for the suffix, 4 for the prefix.
    const q = buildCompletionPrompt(chars, { prefix: 'abcdefghij', suffix: 'xyzw' }, { contextLength: 12, maxNewTokens: 2, fim, suffixShare: 0.5 });
    assert.deepEqual(q.ids, [90, 6, 7, 8, 9, 92, 23, 24, 25, 91]);
    // A short prefix leaves the rest to the suffix.
    const r = buildCompletionPrompt(chars, { prefix: 'a', suffix: 'bcdefghij' }, { contextLength: 12, maxNewTokens: 2, fim });
    assert.deepEqual(r.ids, [90, 0, 92, 1, 2, 3, 4, 5, 6, 91]);
  });
});
