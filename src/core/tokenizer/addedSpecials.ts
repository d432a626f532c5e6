// Special tokens added to an existing tokenizer at ids past its vocabulary, as a model trained with
// fill-in-the-middle adds <|fim_prefix|>, <|fim_middle|> and <|fim_suffix|> after GPT-2's 50,257 tokens (or a
// trained tokenizer's). Ordinary text encodes exactly as with the base tokenizer; with `allowSpecial` an added
// token's text becomes its id, and decoding an added id gives its text back.
import { LlmLabError } from '../errors';
import type { EncodeOptions, TokenizedText, Tokenizer } from './index';

const utf8 = new TextEncoder();

class AddedSpecialsTokenizer implements Tokenizer {
  readonly name: string;
  readonly pattern: Tokenizer['pattern'];
  readonly vocabSize: number;
  readonly eotId: number;
  private readonly textOf = new Map<number, string>();
  private readonly idOf = new Map<string, number>();
  private readonly special: RegExp;

  constructor(
    private readonly base: Tokenizer,
    added: Readonly<Record<string, number>>,
  ) {
    this.name = base.name;
    this.pattern = base.pattern;
    this.eotId = base.eotId;
    let size = base.vocabSize;
    for (const [text, id] of Object.entries(added)) {
      if (!Number.isInteger(id) || id < base.vocabSize || this.textOf.has(id) || text === '') {
        throw new LlmLabError('bad-argument', `Cannot add special token ${JSON.stringify(text)} at id ${id}: added tokens need distinct ids from ${base.vocabSize} up.`);
      }
      this.textOf.set(id, text);
      this.idOf.set(text, id);
      size = Math.max(size, id + 1);
    }
    this.vocabSize = size;
    const longestFirst = [...this.idOf.keys()].sort((a, b) => b.length - a.length);
    this.special = new RegExp(longestFirst.map((t) => t.replace(/[|\\^$*+?.()[\]{}]/g, '\\$&')).join('|'), 'g');
  }

  /** The text cut at added tokens: [start, end, id?] pieces, an added token's piece carrying its id. */
  private pieces(text: string): Array<[number, number, number?]> {
    const out: Array<[number, number, number?]> = [];
    const re = this.special;
    re.lastIndex = 0;
    let start = 0;
    for (let m = re.exec(text); m !== null; m = re.exec(text)) {
      if (m.index > start) out.push([start, m.index]);
      start = m.index + m[0].length;
      out.push([m.index, start, this.idOf.get(m[0])]);
    }
    if (start < text.length) out.push([start, text.length]);
    return out;
  }

  encode(text: string, opts?: EncodeOptions): number[] {
    if (opts?.allowSpecial !== true || this.idOf.size === 0) return this.base.encode(text, opts);
    const out: number[] = [];
    for (const [s, e, id] of this.pieces(text)) {
      if (id !== undefined) out.push(id);
      else for (const t of this.base.encode(text.slice(s, e), opts)) out.push(t);
    }
    return out;
  }

  decode(ids: ArrayLike<number>): string {
    let out = '';
    let run: number[] = [];
    for (let i = 0; i < ids.length; i++) {
      const text = this.textOf.get(ids[i]);
      if (text === undefined) {
        run.push(ids[i]);
        continue;
      }
      if (run.length) out += this.base.decode(run);
      run = [];
      out += text;
    }
    return run.length ? out + this.base.decode(run) : out;
  }

  tokenize(text: string, opts?: EncodeOptions): TokenizedText {
    if (opts?.allowSpecial !== true || this.idOf.size === 0) return this.base.tokenize(text, opts);
    const r: TokenizedText = { ids: [], tokens: [], spans: [] };
    for (const [s, e, id] of this.pieces(text)) this.append(r, id !== undefined ? this.one(id, e - s) : this.base.tokenize(text.slice(s, e), opts), s);
    return r;
  }

  *tokenizeChunks(text: string, opts?: EncodeOptions, chunkChars?: number): Generator<TokenizedText> {
    if (opts?.allowSpecial !== true || this.idOf.size === 0) {
      yield* this.base.tokenizeChunks(text, opts, chunkChars);
      return;
    }
    for (const [s, e, id] of this.pieces(text)) {
      const parts = id !== undefined ? [this.one(id, e - s)] : this.base.tokenizeChunks(text.slice(s, e), opts, chunkChars);
      for (const part of parts) {
        const shifted: TokenizedText = { ids: [], tokens: [], spans: [] };
        this.append(shifted, part, s);
        yield shifted;
      }
    }
  }

  tokenBytes(id: number): Uint8Array {
    const text = this.textOf.get(id);
    return text === undefined ? this.base.tokenBytes(id) : utf8.encode(text);
  }

  /** An added token alone, its span relative to its own text. */
  private one(id: number, length: number): TokenizedText {
    return { ids: [id], tokens: [this.textOf.get(id) as string], spans: [[0, length]] };
  }

  private append(into: TokenizedText, part: TokenizedText, offset: number): void {
    into.ids.push(...part.ids);
    into.tokens.push(...part.tokens);
    for (const [a, b] of part.spans) into.spans.push([a + offset, b + offset]);
  }
}

/**
 * `base` with special tokens added at the given ids (each at or past base.vocabSize). The result's vocabSize
 * covers them; its name, split pattern and <|endoftext|> stay the base's.
 */
export function withAddedSpecials(base: Tokenizer, added: Readonly<Record<string, number>>): Tokenizer {
  return new AddedSpecialsTokenizer(base, added);
}
