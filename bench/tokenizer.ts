// Tokenizer benchmark: encode and decode speed (MB of UTF-8 per second) of our GPT-2 BPE encoder, and the same
// figures for js-tiktoken and OpenAI's Rust tiktoken (npm `tiktoken`, wasm) for comparison. With no corpus
// file it builds a ~10 MB mixed English + code corpus from files the repository ships.
// Run alone: `npx tsc -p . && node out/bench/tokenizer.js [--corpus FILE] [--encoding gpt2|cl100k_base|o200k_base]
// [--repeat N] [--cpu]`.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { EncodingName, Tokenizer } from '../src/core/tokenizer';
import { createTokenizer, getTokenizer, tokenizerFromVocab } from '../src/core/tokenizer';
import { vocabOfModel } from '../src/core/tokenizer/bpeModel';
import { trainBpe } from '../src/core/tokenizer/train';
import type * as Tiktoken from 'tiktoken';

export interface TokenizerSpeed {
  encode_mb_s: number;
  decode_mb_s: number;
}

const MB = 1e6;
const PER_FILE_CAP = 200_000;

function* walk(dir: string, ext: string[]): Generator<string> {
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch {
    return;
  }
  for (const name of names) {
    const p = join(dir, name);
    const st = statSync(p, { throwIfNoEntry: false });
    if (!st) continue;
    if (st.isDirectory()) {
      if (name !== '.git') yield* walk(p, ext);
    } else if (st.isFile() && ext.some((e) => name.endsWith(e))) yield p;
  }
}

function take(files: Iterable<string>, budget: number, parts: string[]): number {
  let used = 0;
  for (const f of files) {
    if (used >= budget) break;
    const text = readFileSync(f, 'utf8').slice(0, PER_FILE_CAP);
    if (text.includes('\u0000')) continue;
    parts.push(text);
    used += Buffer.byteLength(text);
  }
  return used;
}

/** A deterministic ~targetBytes corpus: half English prose (samples, Markdown), half code (TypeScript, JavaScript). */
export function buildBenchCorpus(root = process.cwd(), targetBytes = 10 * MB): string {
  const parts: string[] = [];
  const prose = [join(root, 'samples/the-verdict.txt'), join(root, 'README.md'), ...walk(join(root, 'node_modules'), ['.md'])];
  take(prose, targetBytes / 2, parts);
  const code = [...walk(join(root, 'src'), ['.ts']), ...walk(join(root, 'node_modules'), ['.js', '.ts'])];
  const have = parts.reduce((n, p) => n + Buffer.byteLength(p), 0);
  take(code, targetBytes - have, parts);
  return parts.join('\n');
}

/** Seconds now: wall-clock by default; `--cpu` switches to this process's user CPU time, steadier on a busy machine. */
let clock = (): number => performance.now() / 1000;

function timed<T>(fn: () => T): { value: T; seconds: number } {
  const t0 = clock();
  const value = fn();
  return { value, seconds: clock() - t0 };
}

/** Our encoder's speed on `corpus`: a fresh tokenizer (empty piece cache), loaded and warmed up before timing. */
export function benchTokenizer(corpus: string, encoding: EncodingName = 'gpt2'): TokenizerSpeed {
  return benchEncoder(corpus, createTokenizer(encoding));
}

export interface TrainedTokenizerBench extends TokenizerSpeed {
  vocab_size: number;
  train_mb: number;
  train_s: number;
  /** GPT-2's encoder on the same corpus in the same process, for comparison. */
  gpt2_encode_mb_s: number;
}

/**
 * Trains a byte-level BPE tokenizer (GPT-2 split) on `trainCorpus`, then times its encoder and GPT-2's on `corpus`.
 * Training time covers splitting, counting and every merge.
 */
export async function benchTrainedTokenizer(trainCorpus: string, corpus: string, vocabSize = 32768): Promise<TrainedTokenizerBench> {
  const t0 = clock();
  const { model } = await trainBpe([trainCorpus], { vocabSize, name: 'bench' });
  const train_s = clock() - t0;
  const trained = benchEncoder(corpus, tokenizerFromVocab(vocabOfModel(model, 'bench')));
  const gpt2 = benchTokenizer(corpus, 'gpt2');
  return { ...trained, vocab_size: vocabSize, train_mb: Buffer.byteLength(trainCorpus) / MB, train_s, gpt2_encode_mb_s: gpt2.encode_mb_s };
}

function benchEncoder(corpus: string, tok: Tokenizer): TokenizerSpeed {
  tok.decode(tok.encode('Warm up the encoder: function f(x) { return x * 2; } // done.'));
  const mb = Buffer.byteLength(corpus) / MB;
  const enc = timed(() => tok.encode(corpus));
  const dec = timed(() => tok.decode(enc.value));
  if (dec.value !== corpus) throw new Error('benchTokenizer: decode(encode(corpus)) did not give the corpus back');
  return { encode_mb_s: mb / enc.seconds, decode_mb_s: mb / dec.seconds };
}

interface Reference {
  label: string;
  encode: (s: string) => ArrayLike<number>;
  decode: (ids: ArrayLike<number>) => string;
  free?: () => void;
}

/* eslint-disable @typescript-eslint/no-require-imports */
function references(encoding: EncodingName): Reference[] {
  const out: Reference[] = [];
  try {
    const { getEncoding } = require('js-tiktoken') as {
      getEncoding(n: string): { encode(s: string, allowed: string[], disallowed: string[]): number[]; decode(ids: number[]): string };
    };
    const e = getEncoding(encoding);
    out.push({ label: 'js-tiktoken', encode: (s) => e.encode(s, [], []), decode: (ids) => e.decode(Array.from(ids)) });
  } catch {
    // not installed: skip
  }
  try {
    const { get_encoding } = require('tiktoken') as typeof Tiktoken;
    const e = get_encoding(encoding);
    const td = new TextDecoder();
    out.push({
      label: 'tiktoken (Rust, wasm)',
      encode: (s) => e.encode_ordinary(s),
      decode: (ids) => td.decode(e.decode(ids instanceof Uint32Array ? ids : Uint32Array.from(ids))),
      free: () => e.free(),
    });
  } catch {
    // dev dependency missing: skip
  }
  return out;
}
/* eslint-enable @typescript-eslint/no-require-imports */

/** The same figures for js-tiktoken and Rust tiktoken where installed, and whether their ids equal ours. */
export function benchReferenceTokenizers(corpus: string, encoding: EncodingName = 'gpt2'): Array<TokenizerSpeed & { label: string; sameIds: boolean }> {
  const ours = getTokenizer(encoding).encode(corpus);
  const mb = Buffer.byteLength(corpus) / MB;
  return references(encoding).map((r) => {
    r.decode(r.encode('Warm up the encoder: function f(x) { return x * 2; } // done.'));
    const enc = timed(() => r.encode(corpus));
    const dec = timed(() => r.decode(enc.value));
    r.free?.();
    const ids = enc.value;
    let same = ids.length === ours.length;
    for (let i = 0; same && i < ids.length; i++) same = ids[i] === ours[i];
    return { label: r.label, encode_mb_s: mb / enc.seconds, decode_mb_s: mb / dec.seconds, sameIds: same };
  });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function main(argv: string[]): void {
  const at = (flag: string): string | undefined => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const file = at('--corpus');
  const encoding = (at('--encoding') ?? 'gpt2') as EncodingName;
  const repeat = Math.max(1, Number(at('--repeat') ?? 1));
  if (argv.includes('--cpu')) clock = () => process.cpuUsage().user / 1e6;
  const corpus = file ? readFileSync(file, 'utf8') : buildBenchCorpus();
  console.log(`corpus: ${file ?? 'built from the repository'}, ${(Buffer.byteLength(corpus) / MB).toFixed(2)} MB; encoding ${encoding}; median of ${repeat}; ${argv.includes('--cpu') ? 'CPU' : 'wall-clock'} time`);
  const t = timed(() => createTokenizer(encoding));
  console.log(`load: ${(t.seconds * 1000).toFixed(0)} ms`);
  const runs = new Map<string, { enc: number[]; dec: number[]; same: boolean }>();
  const add = (label: string, s: TokenizerSpeed, same = true): void => {
    const r = runs.get(label) ?? { enc: [], dec: [], same: true };
    r.enc.push(s.encode_mb_s);
    r.dec.push(s.decode_mb_s);
    r.same &&= same;
    runs.set(label, r);
  };
  for (let k = 0; k < repeat; k++) {
    add('llm-lab', benchTokenizer(corpus, encoding));
    for (const r of benchReferenceTokenizers(corpus, encoding)) add(r.label, r, r.sameIds);
  }
  for (const [label, r] of runs) {
    const ids = label === 'llm-lab' ? '' : r.same ? '   ids equal ours' : '   ids differ from ours';
    console.log(`${label.padEnd(24)} encode ${median(r.enc).toFixed(2).padStart(6)} MB/s   decode ${median(r.dec).toFixed(1).padStart(6)} MB/s${ids}`);
  }
}

if (require.main === module) main(process.argv.slice(2));
