// Learns a byte-level BPE tokenizer from text (the book's chapter 2 BPE, as minbpe and Hugging Face's trainer
// do it). Text is cut at special tokens, split into pieces by GPT-2's or GPT-4's pattern, and each distinct
// piece is counted once with its frequency. Every piece starts as its UTF-8 bytes; then, until the vocabulary
// is full, the most frequent adjacent pair of tokens becomes a new token.
//
// Tie-break (deterministic, independent of input order): of the pairs with the highest count, the one whose
// left token has the smallest id wins, then the smallest right id. Bytes have id = byte value and each new
// token the next id, so among byte pairs this is byte order and older tokens go first.
// A pair whose joined bytes are already a token is never merged (no two tokens share bytes; Hugging Face's
// tokenizer.json could not hold both), and the next pair is taken.
//
// Speed: pair counts are kept up to date incrementally. Each pair knows the pieces it occurs in, a merge
// visits only those pieces and adjusts only the counts of the pairs around each joined spot, and a max-heap
// with lazy re-insertion finds the next pair; nothing is recounted per merge.
import { CancelledError, LlmLabError } from '../errors';
import type { BpeModel } from './bpeModel';
import { MAX_TRAINED_VOCAB, normalizeSpecials } from './bpeModel';
import { SCANNERS } from './pretokenize';
import type { SplitPattern } from './vocab';
import { mergeKey, utf8Binary } from './vocab';
import { MaxPairHeap } from './pairHeap';

export interface TrainProgress {
  /** 'count' splits and counts the text (done/total in characters); 'merge' learns merges (done/total merges). */
  phase: 'count' | 'merge';
  done: number;
  total: number;
}

export interface TrainBpeOptions {
  /** Tokens in all: 256 bytes + merges + special tokens. */
  vocabSize: number;
  /** Split pattern (default gpt2). */
  pattern?: SplitPattern;
  /** Special tokens besides `<|endoftext|>` (which is always there, with the first special id). */
  specials?: readonly string[];
  /** Name saved with the tokenizer (default 'bpe'). */
  name?: string;
  signal?: AbortSignal;
  onProgress?: (p: TrainProgress) => void;
}

export interface TrainBpeResult {
  model: BpeModel;
  /** Pieces in the text, distinct pieces, and UTF-8 bytes of the text (specials left out). */
  pieces: number;
  distinctPieces: number;
  bytes: number;
  /** Fewer merges than asked when the text ran out of pairs that occur. */
  mergesWanted: number;
}

const YIELD_MS = 50;
const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Learns merges from `texts` (e.g. one per file); specials inside the texts are cut out, never learned. */
export async function trainBpe(texts: readonly string[], opts: TrainBpeOptions): Promise<TrainBpeResult> {
  const pattern = opts.pattern ?? 'gpt2';
  if (pattern !== 'gpt2' && pattern !== 'gpt4') throw new LlmLabError('bad-argument', `The split pattern must be gpt2 or gpt4, got '${String(pattern)}'.`);
  const specials = normalizeSpecials(opts.specials ?? []);
  const mergesWanted = opts.vocabSize - 256 - specials.length;
  if (!Number.isInteger(opts.vocabSize) || mergesWanted < 0 || opts.vocabSize > MAX_TRAINED_VOCAB) {
    throw new LlmLabError(
      'bad-argument',
      `The vocabulary size must be a whole number from ${256 + specials.length} (the 256 bytes and ${specials.length} special token(s)) to ${MAX_TRAINED_VOCAB}, got ${opts.vocabSize}.`,
    );
  }
  const counted = await countPieces(texts, pattern, specials, opts);
  const merges = await learnMerges(counted.counts, mergesWanted, opts);
  return {
    model: { name: opts.name ?? 'bpe', pattern, merges, specials },
    pieces: counted.pieces,
    distinctPieces: counted.counts.size,
    bytes: counted.bytes,
    mergesWanted,
  };
}

/** Each distinct piece of the texts with how often it occurs. */
async function countPieces(
  texts: readonly string[],
  pattern: SplitPattern,
  specials: readonly string[],
  opts: TrainBpeOptions,
): Promise<{ counts: Map<string, number>; pieces: number; bytes: number }> {
  const scan = SCANNERS[pattern];
  const cut = new RegExp([...specials].sort((a, b) => b.length - a.length).map((s) => s.replace(/[|\\^$*+?.()[\]{}]/g, '\\$&')).join('|'), 'g');
  const counts = new Map<string, number>();
  const total = texts.reduce((n, t) => n + t.length, 0);
  let done = 0;
  let pieces = 0;
  let last = Date.now();
  const pause = async (at: number): Promise<void> => {
    if (Date.now() - last < YIELD_MS) return;
    opts.onProgress?.({ phase: 'count', done: done + at, total });
    await tick();
    if (opts.signal?.aborted) throw new CancelledError('Tokenizer training cancelled.');
    last = Date.now();
  };
  for (const text of texts) {
    const segments = text.split(cut);
    let offset = 0;
    for (const seg of segments) {
      for (let i = 0; i < seg.length; ) {
        const j = scan(seg, i, seg.length);
        const piece = seg.substring(i, j);
        counts.set(piece, (counts.get(piece) ?? 0) + 1);
        pieces++;
        i = j;
        if ((pieces & 4095) === 0) await pause(offset + i);
      }
      offset += seg.length;
    }
    done += text.length;
  }
  opts.onProgress?.({ phase: 'count', done: total, total });
  let bytes = 0;
  for (const [piece, n] of counts) bytes += utf8Binary(piece).length * n;
  return { counts, pieces, bytes };
}

/** The merge list learned from counted pieces (see the header for the rule). */
async function learnMerges(counts: Map<string, number>, wanted: number, opts: TrainBpeOptions): Promise<Array<[number, number]>> {
  // Pieces as token sequences, back to back in one array; piece w is sym[start[w] .. start[w] + len[w]).
  const nWords = counts.size;
  const start = new Int32Array(nWords);
  const len = new Int32Array(nWords);
  const freq = new Float64Array(nWords);
  const bins: string[] = [];
  let totalBytes = 0;
  for (const piece of counts.keys()) {
    const bin = utf8Binary(piece);
    bins.push(bin);
    totalBytes += bin.length;
  }
  const sym = new Int32Array(totalBytes);
  let at = 0;
  let w = 0;
  for (const n of counts.values()) {
    const bin = bins[w];
    start[w] = at;
    len[w] = bin.length;
    freq[w] = n;
    for (let k = 0; k < bin.length; k++) sym[at++] = bin.charCodeAt(k);
    w++;
  }
  bins.length = 0;

  // Pairs: slot per distinct (left, right); count; the pieces it occurs in (a linked list of entries).
  const slotOf = new Map<number, number>();
  const left: number[] = [];
  const right: number[] = [];
  const count: number[] = [];
  const head: number[] = [];
  const lastWord: number[] = [];
  const done: number[] = []; // 1 once merged or refused
  const entryWord: number[] = [];
  const entryNext: number[] = [];
  const slot = (a: number, b: number): number => {
    const key = mergeKey(a, b);
    let s = slotOf.get(key);
    if (s === undefined) {
      s = left.length;
      slotOf.set(key, s);
      left.push(a);
      right.push(b);
      count.push(0);
      head.push(-1);
      lastWord.push(-1);
      done.push(0);
    }
    return s;
  };
  const occurs = (s: number, word: number): void => {
    if (lastWord[s] === word) return;
    lastWord[s] = word;
    entryWord.push(word);
    entryNext.push(head[s]);
    head[s] = entryWord.length - 1;
  };
  for (let v = 0; v < nWords; v++) {
    for (let k = start[v], e = start[v] + len[v] - 1; k < e; k++) {
      const s = slot(sym[k], sym[k + 1]);
      count[s] += freq[v];
      occurs(s, v);
    }
  }
  const heap = new MaxPairHeap(left, right);
  for (let s = 0; s < left.length; s++) heap.push(count[s], s);

  const tokenBytes: string[] = [];
  const known = new Set<string>();
  for (let b = 0; b < 256; b++) {
    tokenBytes.push(String.fromCharCode(b));
    known.add(tokenBytes[b]);
  }
  const merges: Array<[number, number]> = [];
  const fresh: number[] = [];
  let last = Date.now();
  while (merges.length < wanted) {
    if ((merges.length & 15) === 0 && Date.now() - last >= YIELD_MS) {
      opts.onProgress?.({ phase: 'merge', done: merges.length, total: wanted });
      await tick();
      if (opts.signal?.aborted) throw new CancelledError('Tokenizer training cancelled.');
      last = Date.now();
    }
    const best = popBest(heap, count, done);
    if (best < 0) break; // no pair occurs any more
    done[best] = 1;
    const a = left[best];
    const b = right[best];
    const joined = tokenBytes[a] + tokenBytes[b];
    if (known.has(joined)) continue;
    const c = 256 + merges.length;
    merges.push([a, b]);
    tokenBytes.push(joined);
    known.add(joined);
    fresh.length = 0;
    const change = (x: number, y: number, by: number, word: number): void => {
      const s = slot(x, y);
      if (by > 0) {
        if (count[s] === 0 && (x === c || y === c)) fresh.push(s);
        occurs(s, word);
      }
      count[s] += by;
    };
    for (let e = head[best]; e >= 0; e = entryNext[e]) {
      const v = entryWord[e];
      const s0 = start[v];
      const end = s0 + len[v];
      const f = freq[v];
      let o = s0;
      for (let i = s0; i < end; ) {
        if (i + 1 < end && sym[i] === a && sym[i + 1] === b) {
          if (o > s0) {
            change(sym[o - 1], a, -f, v);
            change(sym[o - 1], c, f, v);
          }
          if (i + 2 < end) {
            change(b, sym[i + 2], -f, v);
            change(c, sym[i + 2], f, v);
          }
          sym[o++] = c;
          i += 2;
        } else sym[o++] = sym[i++];
      }
      len[v] = o - s0;
    }
    count[best] = 0;
    for (const s of fresh) if (count[s] > 0) heap.push(count[s], s);
  }
  opts.onProgress?.({ phase: 'merge', done: merges.length, total: wanted });
  return merges;
}

/** The slot of the best pair still to merge, or -1; stale heap entries are re-inserted with their current count. */
function popBest(heap: MaxPairHeap, count: number[], done: number[]): number {
  while (heap.size > 0) {
    const c = heap.topCount();
    const s = heap.pop();
    if (done[s]) continue;
    if (count[s] === c) return c > 0 ? s : -1;
    if (count[s] > 0) heap.push(count[s], s);
  }
  return -1;
}
