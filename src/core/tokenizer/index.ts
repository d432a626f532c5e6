// LLM Lab's tokenizer: OpenAI's BPE encodings (GPT-2's for the models; cl100k_base and o200k_base for counting)
// with ids identical to OpenAI's Rust tiktoken, a fast encoder of our own, fast decoding, and each token's
// character span in the input for drawing token boundaries in the editor.
//
// Span rule: spans tile the input in order. A character belongs to the token that holds its LAST byte (the
// token that completes it, which is when a streaming decoder can show it). A token that holds only leading
// bytes of a character (e.g. the first bytes of an emoji or a CJK character split across tokens) gets an
// empty span at that character's start.
import { LlmLabError } from '../errors';
import { PieceEncoder } from './bpe';
import type { PieceScanner } from './pretokenize';
import { SCANNERS } from './pretokenize';
import type { EncodingName, SplitPattern, Vocab } from './vocab';
import { buildVocab, ENCODING_NAMES } from './vocab';

export type { EncodingName, SplitPattern } from './vocab';
export { ENCODING_NAMES, SPLIT_PATTERNS } from './vocab';

export interface TokenizedText {
  ids: number[];
  /** Each token's own text (a token holding part of a character shows U+FFFD for that part). */
  tokens: string[];
  /** UTF-16 [start, end) offsets into the input; see the span rule above. */
  spans: Array<[start: number, end: number]>;
}

export interface EncodeOptions {
  /** Treat special-token text such as `<|endoftext|>` as the special token; otherwise it is plain text. */
  allowSpecial?: boolean;
}

export interface Tokenizer {
  /** The encoding's name (gpt2, cl100k_base, o200k_base), or a trained tokenizer's name. */
  readonly name: string;
  /** The pre-tokenization split it uses. */
  readonly pattern: SplitPattern;
  /** One more than the largest id, special tokens included (50257 for gpt2). */
  readonly vocabSize: number;
  /** The id of `<|endoftext|>` (50256 for gpt2). */
  readonly eotId: number;
  encode(text: string, opts?: EncodeOptions): number[];
  decode(ids: ArrayLike<number>): string;
  tokenize(text: string, opts?: EncodeOptions): TokenizedText;
  /**
   * The same tokens, ids and spans as `tokenize`, in consecutive pieces of about `chunkChars` characters of
   * input each (cut only where a pre-tokenizer piece ends, so no token changes): a large text is tokenized and
   * written out without holding every token at once, and the caller can yield between pieces.
   */
  tokenizeChunks(text: string, opts?: EncodeOptions, chunkChars?: number): Generator<TokenizedText>;
  /** A copy of one token's raw bytes. */
  tokenBytes(id: number): Uint8Array;
}


type PieceHook = (start: number, end: number, firstToken: number) => void;

class BpeTokenizer implements Tokenizer {
  readonly name: string;
  readonly pattern: SplitPattern;
  readonly vocabSize: number;
  readonly eotId: number;
  private readonly scan: PieceScanner;
  private readonly pieces: PieceEncoder;
  private readonly specialPattern: RegExp;
  private readonly decoder = new TextDecoder('utf-8', { ignoreBOM: true }); // keep a leading U+FEFF

  constructor(private readonly vocab: Vocab) {
    this.name = vocab.name;
    this.pattern = vocab.pattern;
    this.vocabSize = vocab.size;
    this.eotId = vocab.specials.get('<|endoftext|>') as number;
    this.scan = SCANNERS[vocab.pattern];
    this.pieces = new PieceEncoder(vocab);
    const longestFirst = [...vocab.specials.keys()].sort((a, b) => b.length - a.length);
    const escaped = longestFirst.map((t) => t.replace(/[|\\^$*+?.()[\]{}]/g, '\\$&'));
    this.specialPattern = new RegExp(escaped.join('|'), 'g');
  }

  encode(text: string, opts?: EncodeOptions): number[] {
    const out: number[] = [];
    this.encodeInto(text, opts?.allowSpecial === true, out);
    return out;
  }

  decode(ids: ArrayLike<number>): string {
    const { bytes, offsets, present } = this.vocab;
    let total = 0;
    for (let t = 0; t < ids.length; t++) {
      const id = ids[t];
      if (present[id] !== 1) this.check(id); // undefined for negative, fractional or too large ids: throws
      total += offsets[id + 1] - offsets[id];
    }
    const buf = new Uint8Array(total);
    let at = 0;
    for (let t = 0; t < ids.length; t++) {
      const id = ids[t];
      const e = offsets[id + 1];
      let p = offsets[id];
      while (p < e) buf[at++] = bytes[p++];
    }
    return this.decoder.decode(buf);
  }

  tokenBytes(id: number): Uint8Array {
    this.check(id);
    return this.vocab.bytes.slice(this.vocab.offsets[id], this.vocab.offsets[id + 1]);
  }

  tokenize(text: string, opts?: EncodeOptions): TokenizedText {
    const ids: number[] = [];
    const spans: Array<[number, number]> = [];
    this.encodeInto(text, opts?.allowSpecial === true, ids, (start, end, first) => {
      if (end < 0) spans.push([start, -end]); // a special token: its text is its span
      else this.pieceSpans(text, start, end, ids, first, spans);
    });
    const tokens = ids.map((id) => this.decode([id]));
    return { ids, tokens, spans };
  }

  *tokenizeChunks(text: string, opts?: EncodeOptions, chunkChars = 1 << 16): Generator<TokenizedText> {
    let ids: number[] = [];
    let spans: Array<[number, number]> = [];
    const take = (): TokenizedText => {
      const out = { ids, tokens: ids.map((id) => this.decode([id])), spans };
      ids = [];
      spans = [];
      return out;
    };
    const re = opts?.allowSpecial === true ? this.specialPattern : undefined;
    let chunkStart = 0;
    let start = 0;
    for (;;) {
      let m: RegExpExecArray | null = null;
      if (re) {
        re.lastIndex = start; // the pattern is shared: set where to look on every use
        m = re.exec(text);
      }
      const end = m ? m.index : text.length;
      for (let i = start; i < end; ) {
        const j = this.scan(text, i, end);
        const first = ids.length;
        this.pieces.encode(text, i, j, ids);
        this.pieceSpans(text, i, j, ids, first, spans);
        i = j;
        if (i - chunkStart >= chunkChars) {
          yield take();
          chunkStart = i;
        }
      }
      if (!m) break;
      start = m.index + m[0].length;
      spans.push([m.index, start]);
      ids.push(this.vocab.specials.get(m[0]) as number);
    }
    if (ids.length > 0) yield take();
  }

  private check(id: number): void {
    if (!Number.isInteger(id) || id < 0 || id >= this.vocab.size || !this.vocab.present[id]) {
      throw new LlmLabError(
        'bad-argument',
        `Token id ${id} is not in the ${this.name} vocabulary (ids 0..${this.vocab.size - 1}); check that the ids came from the same tokenizer.`,
      );
    }
  }

  private encodeInto(text: string, allowSpecial: boolean, out: number[], hook?: PieceHook): void {
    if (!allowSpecial) {
      this.encodeOrdinary(text, 0, text.length, out, hook);
      return;
    }
    const re = this.specialPattern;
    re.lastIndex = 0;
    let start = 0;
    for (let m = re.exec(text); m !== null; m = re.exec(text)) {
      this.encodeOrdinary(text, start, m.index, out, hook);
      start = m.index + m[0].length;
      hook?.(m.index, -start, out.length);
      out.push(this.vocab.specials.get(m[0]) as number);
    }
    this.encodeOrdinary(text, start, text.length, out, hook);
  }

  private encodeOrdinary(text: string, start: number, end: number, out: number[], hook?: PieceHook): void {
    const scan = this.scan;
    const pieces = this.pieces;
    let i = start;
    while (i < end) {
      const j = scan(text, i, end);
      const first = out.length;
      pieces.encode(text, i, j, out);
      hook?.(i, j, first);
      i = j;
    }
  }

  /** Spans of the tokens ids[first..] that encode the piece text[start, end), by the rule in the header. */
  private pieceSpans(text: string, start: number, end: number, ids: number[], first: number, spans: Array<[number, number]>): void {
    const { offsets } = this.vocab;
    let tok = first;
    let tokEnd = offsets[ids[tok] + 1] - offsets[ids[tok]]; // byte offset in the piece where token `tok` ends
    let bytesSoFar = 0;
    let spanStart = start;
    for (let u = start; u < end; ) {
      const c = text.charCodeAt(u);
      let width = 1;
      let len: number;
      if (c < 0x80) len = 1;
      else if (c < 0x800) len = 2;
      else if (c >= 0xd800 && c < 0xdc00 && u + 1 < end && (text.charCodeAt(u + 1) & 0xfc00) === 0xdc00) {
        len = 4;
        width = 2;
      } else len = 3; // includes lone surrogates, which encode as U+FFFD
      bytesSoFar += len;
      while (bytesSoFar > tokEnd) {
        spans.push([spanStart, u]);
        spanStart = u;
        tok++;
        tokEnd += offsets[ids[tok] + 1] - offsets[ids[tok]];
      }
      u += width;
    }
    spans.push([spanStart, end]);
  }
}

const cache = new Map<EncodingName, Tokenizer>();

/** The tokenizer of an encoding (default gpt2), built once per process and shared (about 0.04 s for gpt2, 0.1 s
 *  for cl100k_base, 0.2 s for o200k_base, on first use). */
export function getTokenizer(name: EncodingName = 'gpt2'): Tokenizer {
  let t = cache.get(name);
  if (!t) {
    t = createTokenizer(name);
    cache.set(name, t);
  }
  return t;
}

/** A new, unshared tokenizer with its own piece cache (for benchmarks; prefer getTokenizer). */
export function createTokenizer(name: EncodingName = 'gpt2'): Tokenizer {
  if (!ENCODING_NAMES.includes(name)) {
    throw new LlmLabError('bad-argument', `Unknown encoding "${String(name)}": use one of ${ENCODING_NAMES.join(', ')}.`);
  }
  return new BpeTokenizer(buildVocab(name));
}

/** A tokenizer over any vocabulary (a trained one); the vocabulary must hold `<|endoftext|>`. */
export function tokenizerFromVocab(vocab: Vocab): Tokenizer {
  if (!vocab.specials.has('<|endoftext|>')) {
    throw new LlmLabError('bad-argument', `The vocabulary "${vocab.name}" has no <|endoftext|> token, which LLM Lab's models need.`);
  }
  return new BpeTokenizer(vocab);
}
