import * as assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Tokenizer } from '../../../../src/core/tokenizer';
import { getTokenizer, tokenizerFromVocab } from '../../../../src/core/tokenizer';
import type { BpeModel } from '../../../../src/core/tokenizer/bpeModel';
import { vocabOfModel } from '../../../../src/core/tokenizer/bpeModel';
import { measureCompression } from '../../../../src/core/tokenizer/compression';
import { loadTokenizer, modelText, parseModelText, renderBytes, saveTokenizer, TOKENIZER_FILES } from '../../../../src/core/tokenizer/files';
import { BYTE_TO_CHAR, fromHfJson, GPT4_SPLIT_REGEX, toHfJson } from '../../../../src/core/tokenizer/hfJson';
import { trainBpe } from '../../../../src/core/tokenizer/train';

const SAMPLE = path.join(__dirname, '../../../../../samples/the-verdict.txt');

/** Texts that break naive tokenizers: every one must come back exactly. */
const HOSTILE = [
  '👩‍👩‍👧‍👦 family, 🇫🇷 flag, 👍🏽 skin tone, 🫠',
  'e\u0301\u0301\u0301 cafe\u0301 na\u0308ive a' + '\u0300'.repeat(200),
  'line one\r\nline two\r\n\r\n\ttabbed\t\tend\t',
  'a'.repeat(50000),
  ' '.repeat(20000) + 'x',
  '\n'.repeat(10000),
  '\r\n'.repeat(3000),
  '='.repeat(30000) + '\n',
  '日本語のテキスト、中文文本。한국어 텍스트 مرحبا بالعالم שלום',
  '\u0000nul\u0001ctl\u007f \ufeffbom \u0085nel \u2028ls \u00a0nbsp \u3000ideo \u200bzw',
  "it's I'M we'll they've DON'T 'S '",
  '𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝟙𝟚𝟛 \u{10ffff} \u{e0001}',
  '<|endoftext|> as plain text <|endoftext',
  '',
];

describe('trained tokenizer: round trips and files', () => {
  let tmp: string;
  let verdict: string;
  const trained: Partial<Record<'gpt2' | 'gpt4', { model: BpeModel; tok: Tokenizer }>> = {};

  before(async () => {
    tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'llm-lab-bpe-'));
    verdict = await fsp.readFile(SAMPLE, 'utf8');
    for (const pattern of ['gpt2', 'gpt4'] as const) {
      const { model } = await trainBpe([verdict, HOSTILE.join('\n')], { vocabSize: 800, pattern, name: pattern, specials: ['<|pad|>'] });
      trained[pattern] = { model, tok: tokenizerFromVocab(vocabOfModel(model, pattern)) };
    }
  });
  after(async () => {
    await fsp.rm(tmp, { recursive: true, force: true });
  });

  for (const pattern of ['gpt2', 'gpt4'] as const) {
    it(`decode(encode(x)) == x on hostile text (${pattern} split)`, () => {
      const tok = trained[pattern]!.tok;
      for (const text of [...HOSTILE, HOSTILE.join(''), verdict]) {
        assert.equal(tok.decode(tok.encode(text)), text, JSON.stringify(text.slice(0, 30)));
        const withSpecials = `${text}<|endoftext|>${text}<|pad|>`;
        const ids = tok.encode(withSpecials, { allowSpecial: true });
        assert.equal(tok.decode(ids), withSpecials);
        assert.equal(ids.filter((id) => id === tok.eotId).length, 1 + 2 * (text.match(/<\|endoftext\|>/g)?.length ?? 0));
      }
      // Spans tile the text even with specials and characters split across tokens.
      const t = tok.tokenize(`${HOSTILE[0]}<|endoftext|>${HOSTILE[1]}`, { allowSpecial: true });
      assert.equal(t.spans[0][0], 0);
      for (let i = 1; i < t.spans.length; i++) assert.equal(t.spans[i][0], t.spans[i - 1][1]);
    });
  }

  it('gives <|endoftext|> the first id after the merges and specials the ids after it', () => {
    const { model, tok } = trained.gpt2!;
    assert.equal(model.merges.length, 800 - 256 - 2);
    assert.equal(tok.eotId, 798);
    assert.deepEqual(tok.encode('<|pad|><|endoftext|>', { allowSpecial: true }), [799, 798]);
    assert.equal(tok.vocabSize, 800);
  });

  it('saves tokenizer.model, .vocab and tokenizer.json, and each loads back to identical ids', async () => {
    const { model, tok } = trained.gpt4!;
    const dir = path.join(tmp, 'saved');
    const files = await saveTokenizer(dir, model);
    assert.deepEqual(files.map((f) => path.basename(f)), ['tokenizer.model', 'tokenizer.vocab', 'tokenizer.json']);
    const text = `${verdict}${HOSTILE.join('<|endoftext|>')}`;
    const want = tok.encode(text, { allowSpecial: true });
    const fromModel = await loadTokenizer(dir);
    assert.deepEqual(fromModel.encode(text, { allowSpecial: true }), want);
    assert.equal(fromModel.name, 'gpt4');
    assert.equal(fromModel.pattern, 'gpt4');
    // Without the machine form the folder still loads, from tokenizer.json.
    const hfOnly = path.join(tmp, 'hf-only');
    await fsp.mkdir(hfOnly);
    await fsp.copyFile(path.join(dir, TOKENIZER_FILES.hf), path.join(hfOnly, TOKENIZER_FILES.hf));
    const fromHf = await loadTokenizer(hfOnly);
    assert.deepEqual(fromHf.encode(text, { allowSpecial: true }), want);
    assert.equal(fromHf.vocabSize, tok.vocabSize);
  });

  it('never overwrites a saved tokenizer', async () => {
    const dir = path.join(tmp, 'twice');
    await saveTokenizer(dir, trained.gpt2!.model);
    const before = await fsp.readFile(path.join(dir, TOKENIZER_FILES.model), 'utf8');
    await assert.rejects(saveTokenizer(dir, trained.gpt4!.model), /already exists; LLM Lab never overwrites/);
    assert.equal(await fsp.readFile(path.join(dir, TOKENIZER_FILES.model), 'utf8'), before);
  });

  it('writes the readable vocabulary with each merge spelled out (the hand-worked example)', async () => {
    const { model } = await trainBpe(['aaabdaaabac', 'a\nb'], { vocabSize: 260, name: 'wiki' });
    const dir = path.join(tmp, 'wiki');
    await saveTokenizer(dir, model);
    const lines = (await fsp.readFile(path.join(dir, TOKENIZER_FILES.vocab), 'utf8')).split('\n');
    assert.match(lines[0], /^# LLM Lab BPE tokenizer "wiki": 260 tokens, 3 merges, split pattern gpt2\./);
    assert.ok(lines.includes('10 [\\n]'));
    assert.ok(lines.includes('97 [a]'));
    assert.ok(lines.includes('256 [aa] = [a] + [a]'));
    assert.ok(lines.includes('257 [ab] = [a] + [b]'));
    assert.ok(lines.includes('258 [aaab] = [aa] + [ab]'));
    assert.ok(lines.includes('259 <|endoftext|> (special)'));
    assert.equal(renderBytes(Uint8Array.from([0xc3, 0xa9, 0xe2, 0x82, 0x5c, 0x09])), 'é\\xe2\\x82\\\\\\t');
  });

  it('writes the machine form as documented and reads it back; a damaged one is named with its line', () => {
    const model: BpeModel = { name: 'wiki', pattern: 'gpt2', merges: [[97, 97], [97, 98], [256, 257]], specials: ['<|endoftext|>'] };
    const text = modelText(model);
    assert.equal(text, 'llm-lab bpe 1\nname "wiki"\npattern gpt2\nspecials 1\n"<|endoftext|>"\nmerges 3\n97 97\n97 98\n256 257\n');
    assert.deepEqual(parseModelText(text, 'f'), model);
    assert.throws(() => parseModelText(text.replace('97 98', '97 x'), 'f'), /f, line 8: expected merge 2 of 3/);
    assert.throws(() => parseModelText('hello', 'f'), /not an LLM Lab tokenizer/);
    assert.throws(() => parseModelText(text.replace('merges 3', 'merges 4'), 'f'), /line 10: expected merge 4 of 4/);
    // A merge that joins a token not learned yet, or that makes the same bytes twice, is refused on load.
    assert.throws(() => vocabOfModel({ ...model, merges: [[97, 300]] }, 'f'), /merge 1 \(97 300\) does not join two earlier tokens/);
    const twice: Array<[number, number]> = [[97, 98], [256, 99], [98, 99], [97, 258]]; // "abc" as ab+c and as a+bc
    assert.throws(() => vocabOfModel({ ...model, merges: twice }, 'f'), /merge 4 makes the bytes of token 257 a second time/);
  });

  it("writes Hugging Face's tokenizer.json layout: byte-level BPE, GPT-2's byte table, specials as added tokens", () => {
    // GPT-2's table (openai/gpt-2 encoder.py bytes_to_unicode): printable bytes stand for themselves, space is
    // U+0120 "Ġ", newline U+010A "Ċ", byte 0 U+0100 "Ā", byte 0xAD (soft hyphen) U+0143 "Ń".
    assert.equal(BYTE_TO_CHAR[0x41], 'A');
    assert.equal(BYTE_TO_CHAR[0x20], 'Ġ');
    assert.equal(BYTE_TO_CHAR[0x0a], 'Ċ');
    assert.equal(BYTE_TO_CHAR[0x00], 'Ā');
    assert.equal(BYTE_TO_CHAR[0xad], 'Ń');
    assert.equal(new Set(BYTE_TO_CHAR).size, 256);
    const model: BpeModel = { name: 'm', pattern: 'gpt2', merges: [[32, 116], [104, 101], [256, 257]], specials: ['<|endoftext|>', '<|pad|>'] };
    const j = toHfJson(model) as { model: Record<string, unknown>; added_tokens: unknown[]; pre_tokenizer: unknown; decoder: unknown; normalizer: unknown };
    assert.equal(j.model.type, 'BPE');
    assert.deepEqual(j.model.merges, ['Ġ t', 'h e', 'Ġt he']);
    const vocab = j.model.vocab as Record<string, number>;
    assert.equal(vocab['Ġthe'], 258);
    assert.equal(vocab['<|endoftext|>'], 259);
    assert.equal(Object.keys(vocab).length, 261);
    assert.deepEqual(j.added_tokens[1], { id: 260, content: '<|pad|>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
    assert.deepEqual(j.pre_tokenizer, { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true });
    assert.deepEqual(j.decoder, { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true });
    assert.equal(j.normalizer, null);
    const gpt4 = toHfJson({ ...model, pattern: 'gpt4' }) as { pre_tokenizer: { type: string; pretokenizers: Array<Record<string, unknown>> } };
    assert.equal(gpt4.pre_tokenizer.type, 'Sequence');
    assert.deepEqual(gpt4.pre_tokenizer.pretokenizers[0], { type: 'Split', pattern: { Regex: GPT4_SPLIT_REGEX }, behavior: 'Isolated', invert: false });
    assert.equal(gpt4.pre_tokenizer.pretokenizers[1].use_regex, false);
    assert.deepEqual(fromHfJson(JSON.parse(JSON.stringify(j)), 'm', 'f'), model);
    assert.throws(() => fromHfJson({ model: { type: 'WordPiece' } }, 'm', 'f'), /not a BPE model/);
  });

  it('measures compression as tokens per character beside GPT-2 (counts from independent encodes)', async () => {
    const tok = trained.gpt2!.tok;
    const gpt2 = getTokenizer('gpt2');
    const texts = [verdict, 'def f(x):\n    return x'];
    const [mine, theirs] = await measureCompression(texts, [tok, gpt2]);
    const chars = verdict.length + texts[1].length;
    assert.equal(theirs.tokens, gpt2.encode(verdict).length + gpt2.encode(texts[1]).length);
    assert.equal(theirs.tokensPerChar, theirs.tokens / chars);
    assert.equal(mine.tokens, tok.encode(verdict).length + tok.encode(texts[1]).length);
    assert.equal(mine.name, 'gpt2');
  });
});
