// A trained tokenizer in Hugging Face's `tokenizer.json` layout (what `tokenizers.Tokenizer.from_file` and
// `transformers`' PreTrainedTokenizerFast read): a byte-level BPE model whose vocabulary and merges spell bytes
// with GPT-2's byte-to-character table, the split pattern as the pre-tokenizer, a ByteLevel decoder, and the
// special tokens as added tokens. Reading back accepts the files LLM Lab writes (ids in its own layout).
import { LlmLabError } from '../errors';
import type { BpeModel } from './bpeModel';
import { END_OF_TEXT } from './bpeModel';
import type { SplitPattern } from './vocab';

/** GPT-4's split pattern (cl100k_base) as a regular expression; LLM Lab's scanner follows it exactly. */
export const GPT4_SPLIT_REGEX =
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

/**
 * GPT-2's printable stand-in for each byte: printable Latin-1 bytes stand for themselves, the other 68 (controls,
 * space, and a few more) are mapped in order to U+0100 onwards, so a space shows as "Ġ" and a newline as "Ċ".
 */
export const BYTE_TO_CHAR: readonly string[] = (() => {
  const out: string[] = new Array<string>(256);
  let extra = 0;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
    out[b] = String.fromCharCode(printable ? b : 256 + extra++);
  }
  return out;
})();

const BYTE_LEVEL = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true };

function preTokenizer(pattern: SplitPattern): unknown {
  if (pattern === 'gpt2') return { ...BYTE_LEVEL, use_regex: true }; // ByteLevel's built-in regex is GPT-2's
  if (pattern === 'gpt4') {
    return {
      type: 'Sequence',
      pretokenizers: [
        { type: 'Split', pattern: { Regex: GPT4_SPLIT_REGEX }, behavior: 'Isolated', invert: false },
        { ...BYTE_LEVEL, use_regex: false },
      ],
    };
  }
  throw new LlmLabError('bad-argument', `A tokenizer.json can be written for the gpt2 and gpt4 split patterns, not '${pattern}'.`);
}

/** The tokenizer.json object of a model. */
export function toHfJson(model: BpeModel): Record<string, unknown> {
  const strings: string[] = BYTE_TO_CHAR.slice();
  for (const [l, r] of model.merges) strings.push(strings[l] + strings[r]);
  const vocab: Record<string, number> = {};
  strings.forEach((s, id) => (vocab[s] = id));
  const first = strings.length;
  model.specials.forEach((s, k) => {
    if (vocab[s] !== undefined) throw new LlmLabError('bad-argument', `The special token ${s} spells the same as token ${vocab[s]}; choose another special token.`);
    vocab[s] = first + k;
  });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: model.specials.map((content, k) => ({
      id: first + k,
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: null,
    pre_tokenizer: preTokenizer(model.pattern),
    post_processor: null,
    decoder: { ...BYTE_LEVEL, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges: model.merges.map(([l, r]) => `${strings[l]} ${strings[r]}`),
    },
  };
}

type Json = Record<string, unknown>;

function isObj(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The split pattern a tokenizer.json's pre-tokenizer names, or undefined when it is not one LLM Lab runs. */
function patternOf(pre: unknown): SplitPattern | undefined {
  if (!isObj(pre)) return undefined;
  if (pre.type === 'ByteLevel') return pre.use_regex !== false && pre.add_prefix_space !== true ? 'gpt2' : undefined;
  if (pre.type !== 'Sequence' || !Array.isArray(pre.pretokenizers) || pre.pretokenizers.length !== 2) return undefined;
  const [split, bytes] = pre.pretokenizers as unknown[];
  if (!isObj(split) || !isObj(bytes) || split.type !== 'Split' || bytes.type !== 'ByteLevel' || bytes.use_regex !== false) return undefined;
  return isObj(split.pattern) && split.pattern.Regex === GPT4_SPLIT_REGEX && split.behavior === 'Isolated' ? 'gpt4' : undefined;
}

/** Reads a tokenizer.json written by LLM Lab back into its model; `where` names the file for messages. */
export function fromHfJson(json: unknown, name: string, where: string): BpeModel {
  const bad = (what: string): LlmLabError =>
    new LlmLabError('bad-checkpoint', `${where} is not a tokenizer LLM Lab can use: ${what}. Point at a folder made by 'llm-lab tokenizer train'.`);
  if (!isObj(json) || !isObj(json.model)) throw bad('it has no "model" object');
  const m = json.model;
  if (m.type !== 'BPE' || !isObj(m.vocab) || !Array.isArray(m.merges)) throw bad('its model is not a BPE model with vocab and merges');
  const pattern = patternOf(json.pre_tokenizer);
  if (!pattern) throw bad("its pre-tokenizer is not byte-level BPE with GPT-2's or GPT-4's split");
  const ids = new Map<string, number>(Object.entries(m.vocab).map(([k, v]) => [k, Number(v)]));
  for (let b = 0; b < 256; b++) if (ids.get(BYTE_TO_CHAR[b]) !== b) throw bad(`byte ${b} does not have id ${b}`);
  const merges: Array<[number, number]> = [];
  for (const [i, raw] of (m.merges as unknown[]).entries()) {
    const parts = typeof raw === 'string' ? raw.split(' ') : raw;
    if (!Array.isArray(parts) || parts.length !== 2 || typeof parts[0] !== 'string' || typeof parts[1] !== 'string') throw bad(`merge ${i + 1} is not a pair`);
    const l = ids.get(parts[0]);
    const r = ids.get(parts[1]);
    if (l === undefined || r === undefined || ids.get(parts[0] + parts[1]) !== 256 + i) throw bad(`merge ${i + 1} does not make token ${256 + i}`);
    merges.push([l, r]);
  }
  const added = Array.isArray(json.added_tokens) ? (json.added_tokens as unknown[]) : [];
  const specials = added
    .filter(isObj)
    .map((t) => ({ id: Number(t.id), content: String(t.content) }))
    .sort((a, b) => a.id - b.id);
  specials.forEach((t, k) => {
    if (t.id !== 256 + merges.length + k) throw bad(`special token ${t.content} does not follow the merges`);
  });
  if (specials[0]?.content !== END_OF_TEXT) throw bad(`it has no ${END_OF_TEXT} right after the merges`);
  return { name, pattern, merges, specials: specials.map((t) => t.content) };
}
