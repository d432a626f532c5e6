import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { get_encoding } from 'tiktoken';
import { LlmLabError } from '../../../../src/core/errors';
import { Rng } from '../../../../src/core/rng';
import type { EncodingName } from '../../../../src/core/tokenizer';
import { getTokenizer } from '../../../../src/core/tokenizer';

const ROOT = join(__dirname, '../../../../..');
const BOOK_TEXT = 'Hello, do you like tea? <|endoftext|> In the sunlit terracesof someunknownPlace.';

/** Texts that stress every branch of the pre-tokenisers. */
function variedTexts(): string[] {
  const rng = new Rng(2024);
  const texts = [
    'The quick brown fox jumps over the lazy dog. It\'s 3:45pm; we\'ve 12,345 reasons.',
    "I'm sure they'll say he'd won. DON'T YOU'RE I'M HELLO'S 's 't 're 'S 'Ll x'ſx",
    'function add(a: number, b: number): number {\n\treturn a + b; // sum\n}\n\n\n    const x = [1, 2, 3];\r\n',
    'if (x) {\n        y = x.map((v) => v ** 2).filter(Boolean);\n    }\n',
    'spaces:      between   words   \n\n\n   \t\t  \n  end  ',
    ' '.repeat(300) + 'x' + '\n'.repeat(200) + 'ab'.repeat(400) + '!?'.repeat(150),
    'Unicode: café naïve e\u0301 ß ẞ İstanbul Ωμέγα Привет мир 日本語のテキスト 한국어 العربية हिन्दी',
    'Emoji: 😀👍🏽🇺🇸👨‍👩‍👧 🤖x and ZWJ\u200dsequences',
    'BOM \ufeff inside, \ufeffat word start, NEL a\u0085b  \u0085 c, NBSP a\u00a0b, ideographic\u3000space, LS\u2028PS\u2029',
    'Numbers: 1 12 123 1234 12345 123456 ٣٤٥ ½ Ⅻ 3.14159 1e-9 0xFF',
    'Marks: \u0301A HELLO\u0301 a\u0308b ǅungla ʰi ᾳ \u0345x',
    'Specials as text: <|endoftext|> and <|fim_prefix|><|endofprompt|>',
    'Controls: \u0000\u0007\u000b\u000c\u001b[0m',
    '',
  ];
  for (let n = 0; n < 40; n++) {
    const bytes = new Uint8Array(1 + rng.int(60));
    for (let i = 0; i < bytes.length; i++) bytes[i] = rng.float() < 0.5 ? rng.int(256) : 0x20 + rng.int(95);
    texts.push(new TextDecoder().decode(bytes)); // random bytes decoded as UTF-8 (U+FFFD where invalid)
  }
  return texts;
}

describe('tokenizer', () => {
  it('gives the book\'s ids for its example, with <|endoftext|> allowed', () => {
    const tok = getTokenizer('gpt2');
    assert.deepEqual(
      tok.encode(BOOK_TEXT, { allowSpecial: true }),
      [15496, 11, 466, 345, 588, 8887, 30, 220, 50256, 554, 262, 4252, 18250, 8812, 2114, 1659, 617, 34680, 27271, 13],
    );
    assert.equal(tok.decode(tok.encode(BOOK_TEXT, { allowSpecial: true })), BOOK_TEXT);
  });

  it('encodes special-token text as plain text unless allowed', () => {
    const tok = getTokenizer('gpt2');
    const plain = tok.encode('a <|endoftext|> b');
    assert.ok(!plain.includes(50256));
    assert.ok(plain.length > 3);
    assert.equal(tok.decode(plain), 'a <|endoftext|> b');
    assert.deepEqual(tok.encode('<|endoftext|>', { allowSpecial: true }), [50256]);
  });

  it('reports vocabulary sizes and end-of-text ids', () => {
    assert.equal(getTokenizer().name, 'gpt2');
    assert.equal(getTokenizer('gpt2').vocabSize, 50257);
    assert.equal(getTokenizer('gpt2').eotId, 50256);
    assert.equal(getTokenizer('cl100k_base').eotId, 100257);
    assert.equal(getTokenizer('o200k_base').eotId, 199999);
  });

  for (const name of ['gpt2', 'cl100k_base', 'o200k_base'] as EncodingName[]) {
    it(`gives exactly Rust tiktoken's ids for ${name} on varied text`, () => {
      const tok = getTokenizer(name);
      const ref = get_encoding(name);
      try {
        const texts = [...variedTexts(), readFileSync(join(ROOT, 'samples/the-verdict.txt'), 'utf8')];
        for (const text of texts) {
          assert.deepEqual(tok.encode(text), Array.from(ref.encode_ordinary(text)), `ordinary: ${JSON.stringify(text.slice(0, 80))}`);
          assert.deepEqual(tok.encode(text, { allowSpecial: true }), Array.from(ref.encode(text, 'all')), `special: ${JSON.stringify(text.slice(0, 80))}`);
        }
      } finally {
        ref.free();
      }
    });
  }

  it('decodes back to the exact input, a leading U+FEFF included', () => {
    const tok = getTokenizer('gpt2');
    for (const text of variedTexts()) assert.equal(tok.decode(tok.encode(text, { allowSpecial: true })), text);
    assert.equal(tok.decode(tok.encode('\ufeffstart')), '\ufeffstart');
    assert.equal(tok.decode(new Int32Array(tok.encode('typed arrays work'))), 'typed arrays work');
    // A lone surrogate is not valid UTF-16; it is encoded as U+FFFD, like TextEncoder does.
    assert.equal(tok.decode(tok.encode('a\ud800b')), 'a\ufffdb');
  });

  it('gives whole-character spans that tile ASCII text', () => {
    const r = getTokenizer('gpt2').tokenize('Hello world');
    assert.deepEqual(r.ids, [15496, 995]);
    assert.deepEqual(r.tokens, ['Hello', ' world']);
    assert.deepEqual(r.spans, [
      [0, 5],
      [5, 11],
    ]);
  });

  it('gives a character split across tokens to the token holding its last byte', () => {
    const tok = getTokenizer('gpt2');
    // GPT-2 splits U+1F600 (4 UTF-8 bytes) into a 3-byte and a 1-byte token; "a" and "b" stay whole.
    const emoji = tok.tokenize('a😀b');
    assert.deepEqual(emoji.ids.map((id) => tok.tokenBytes(id).length), [1, 3, 1, 1]);
    assert.deepEqual(emoji.spans, [
      [0, 1],
      [1, 1],
      [1, 3],
      [3, 4],
    ]);
    assert.equal(emoji.tokens[1], '\ufffd'); // a partial character has no text of its own
    // Each CJK character here is 3 bytes split 2 + 1: the first token of each gets an empty span.
    const cjk = tok.tokenize('日本語');
    assert.deepEqual(cjk.ids.map((id) => tok.tokenBytes(id).length), [2, 1, 2, 1, 2, 1]);
    assert.deepEqual(cjk.spans, [
      [0, 0],
      [0, 1],
      [1, 1],
      [1, 2],
      [2, 2],
      [2, 3],
    ]);
  });

  it('gives spans that tile any input in order, specials included', () => {
    for (const name of ['gpt2', 'o200k_base'] as EncodingName[]) {
      const tok = getTokenizer(name);
      for (const text of variedTexts()) {
        const r = tok.tokenize(text, { allowSpecial: true });
        assert.deepEqual(r.ids, tok.encode(text, { allowSpecial: true }));
        assert.equal(r.spans.length, r.ids.length);
        let at = 0;
        for (const [s, e] of r.spans) {
          assert.equal(s, at, `spans must be contiguous in ${JSON.stringify(text.slice(0, 40))}`);
          assert.ok(e >= s);
          at = e;
        }
        assert.equal(at, text.length);
      }
      const withEot = tok.tokenize('x<|endoftext|>y', { allowSpecial: true });
      assert.deepEqual(withEot.spans[withEot.ids.indexOf(tok.eotId)], [1, 14]);
    }
  });

  it('tokenizes in pieces to exactly what one call gives, however small the pieces', () => {
    const tok = getTokenizer('gpt2');
    const text = variedTexts().join('<|endoftext|>');
    for (const allowSpecial of [true, false]) {
      const whole = tok.tokenize(text, { allowSpecial });
      for (const chunkChars of [1, 7, 100, 1 << 16]) {
        const ids: number[] = [];
        const tokens: string[] = [];
        const spans: Array<[number, number]> = [];
        let pieces = 0;
        for (const p of tok.tokenizeChunks(text, { allowSpecial }, chunkChars)) {
          assert.ok(p.ids.length > 0 && p.ids.length === p.spans.length && p.ids.length === p.tokens.length);
          ids.push(...p.ids);
          tokens.push(...p.tokens);
          spans.push(...p.spans);
          pieces++;
        }
        assert.deepEqual({ ids, tokens, spans }, whole, `chunkChars ${chunkChars}`);
        if (chunkChars === 100) assert.ok(pieces > text.length / 200, 'a large text comes in many pieces');
      }
    }
    assert.deepEqual([...tok.tokenizeChunks('')], []);
  });

  it('returns the raw bytes of a token, specials included', () => {
    const tok = getTokenizer('gpt2');
    assert.equal(new TextDecoder().decode(tok.tokenBytes(15496)), 'Hello');
    assert.equal(new TextDecoder().decode(tok.tokenBytes(50256)), '<|endoftext|>');
    const parts = tok.encode('😀').map((id) => Array.from(tok.tokenBytes(id)));
    assert.deepEqual(parts.flat(), Array.from(new TextEncoder().encode('😀')));
    tok.tokenBytes(15496)[0] = 0; // a copy: changing it does not change the vocabulary
    assert.equal(tok.decode([15496]), 'Hello');
  });

  it('rejects unknown ids and encodings with a clear error', () => {
    const tok = getTokenizer('gpt2');
    assert.throws(() => tok.decode([50257]), (e: unknown) => e instanceof LlmLabError && e.code === 'bad-argument' && /50257/.test(e.message));
    assert.throws(() => tok.decode([-1]), LlmLabError);
    assert.throws(() => tok.tokenBytes(1.5), LlmLabError);
    assert.throws(() => getTokenizer('gpt5' as EncodingName), (e: unknown) => e instanceof LlmLabError && /gpt2, cl100k_base, o200k_base/.test(e.message));
    // cl100k_base has no token 100256 (a gap before its specials).
    assert.throws(() => getTokenizer('cl100k_base').decode([100256]), LlmLabError);
  });
});
