// Special tokens added past a tokenizer's vocabulary (the fill-in-the-middle sentinels): ordinary text keeps
// the base tokenizer's ids, allowSpecial turns the added texts into their ids, and every id decodes.
import * as assert from 'node:assert/strict';
import { LlmLabError } from '../../../../src/core/errors';
import { getTokenizer } from '../../../../src/core/tokenizer';
import { withAddedSpecials } from '../../../../src/core/tokenizer/addedSpecials';

const gpt2 = getTokenizer('gpt2');
const tok = withAddedSpecials(gpt2, { '<|fim_prefix|>': 50257, '<|fim_middle|>': 50258, '<|fim_suffix|>': 50259 });

describe('added special tokens', () => {
  it('covers the added ids in the vocabulary size and keeps the base name and <|endoftext|>', () => {
    assert.equal(tok.vocabSize, 50260);
    assert.equal(tok.eotId, 50256);
    assert.equal(tok.name, 'gpt2');
  });

  it('encodes the added texts only with allowSpecial (hand-worked: "a" is 64, "b" 65 in GPT-2)', () => {
    const text = '<|fim_prefix|>a<|fim_suffix|>b<|fim_middle|><|endoftext|>';
    assert.deepEqual(tok.encode(text, { allowSpecial: true }), [50257, 64, 50259, 65, 50258, 50256]);
    assert.deepEqual(tok.encode(text), gpt2.encode(text));
    assert.deepEqual(tok.encode('plain text, no specials', { allowSpecial: true }), gpt2.encode('plain text, no specials', { allowSpecial: true }));
  });

  it('decodes added ids to their text, also after a character made of several tokens', () => {
    assert.equal(tok.decode([50257, 64, 50259, 65, 50258]), '<|fim_prefix|>a<|fim_suffix|>b<|fim_middle|>');
    assert.deepEqual([...tok.tokenBytes(50258)], [...new TextEncoder().encode('<|fim_middle|>')]);
    const smile = gpt2.encode('😀'); // more than one token in GPT-2
    assert.ok(smile.length > 1);
    assert.equal(tok.decode([...smile, 50257]), '😀<|fim_prefix|>');
  });

  it('gives spans in the whole text, an added token spanning its own text', () => {
    const text = 'ab<|fim_suffix|>cd';
    const t = tok.tokenize(text, { allowSpecial: true });
    const base = gpt2.tokenize('ab');
    assert.deepEqual(t.ids, [...base.ids, 50259, ...gpt2.encode('cd')]);
    assert.deepEqual(t.spans[base.ids.length], [2, 16]);
    assert.deepEqual(t.spans[t.spans.length - 1][1], text.length);
    assert.equal(t.tokens[base.ids.length], '<|fim_suffix|>');
    const chunks = [...tok.tokenizeChunks(text, { allowSpecial: true }, 1)];
    assert.deepEqual(chunks.flatMap((c) => c.ids), t.ids);
    assert.deepEqual(chunks.flatMap((c) => c.spans), t.spans);
  });

  it('refuses an added id inside the base vocabulary', () => {
    assert.throws(() => withAddedSpecials(gpt2, { '<|x|>': 100 }), (e: unknown) => e instanceof LlmLabError && /from 50257 up/.test(e.message));
  });
});
