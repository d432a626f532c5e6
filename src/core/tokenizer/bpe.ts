// Byte-pair merging of one pre-tokenised piece, with the exact merge order of OpenAI's tiktoken: repeatedly
// join the adjacent pair whose joined bytes have the lowest rank, leftmost first on ties, until no joined pair
// is a token. Short pieces use a flat array scan; long ones (whitespace runs, minified code) a heap over a
// linked list, so the cost stays O(n log n). Frequent pieces are served from a cache.
import type { Vocab } from './vocab';
import { utf8Binary } from './vocab';

const NONE = 0x7fffffff;
const SMALL = 128;
const CACHE_LIMIT = 100_000;
const CACHE_PIECE_CHARS = 64;

let scratchPos = new Int32Array(SMALL + 2);
let scratchRank = new Int32Array(SMALL + 2);

function rankOf(ranks: Map<string, number>, bin: string, a: number, b: number): number {
  const r = ranks.get(bin.substring(a, b));
  return r === undefined ? NONE : r;
}

/** Part boundaries after merging (a list of start offsets, then the end), array-scan version. */
export function mergeSmall(bin: string, ranks: Map<string, number>): Int32Array {
  const n = bin.length;
  if (scratchPos.length < n + 2) {
    scratchPos = new Int32Array(n + 2);
    scratchRank = new Int32Array(n + 2);
  }
  const pos = scratchPos;
  const rank = scratchRank;
  for (let i = 0; i <= n; i++) pos[i] = i;
  for (let i = 0; i + 1 < n; i++) rank[i] = rankOf(ranks, bin, i, i + 2);
  let m = n; // number of parts; pos[0..m] are their boundaries, rank[i] joins parts i and i+1
  while (m > 1) {
    let best = NONE;
    let at = -1;
    for (let i = 0; i + 1 < m; i++) {
      if (rank[i] < best) {
        best = rank[i];
        at = i;
      }
    }
    if (at < 0) break;
    // Join parts at and at+1: drop boundary at+1 and the pair rank that started there.
    for (let i = at + 1; i < m; i++) pos[i] = pos[i + 1];
    for (let i = at + 1; i + 1 < m - 1; i++) rank[i] = rank[i + 1];
    m--;
    if (at + 1 < m) rank[at] = rankOf(ranks, bin, pos[at], pos[at + 2]);
    if (at > 0) rank[at - 1] = rankOf(ranks, bin, pos[at - 1], pos[at + 1]);
  }
  return pos.slice(0, m + 1);
}

/** Same result as mergeSmall in O(n log n): a min-heap of (rank, start) keys with stale entries skipped. */
export function mergeLarge(bin: string, ranks: Map<string, number>): Int32Array {
  const n = bin.length;
  const next = new Int32Array(n + 1); // start of the following part (n for the last)
  const prev = new Int32Array(n + 1);
  const pairRank = new Int32Array(n + 1); // rank of (part at i) + (next part), NONE when not a token
  const alive = new Uint8Array(n + 1);
  const heap: number[] = [];
  const key = (r: number, i: number): number => r * (n + 1) + i; // orders by rank, then leftmost
  for (let i = 0; i < n; i++) {
    next[i] = i + 1;
    prev[i] = i - 1;
    alive[i] = 1;
    pairRank[i] = i + 2 <= n ? rankOf(ranks, bin, i, i + 2) : NONE;
    if (pairRank[i] !== NONE) heapPush(heap, key(pairRank[i], i));
  }
  while (heap.length > 0) {
    const k = heapPop(heap);
    const i = k % (n + 1);
    const r = (k - i) / (n + 1);
    if (!alive[i] || pairRank[i] !== r) continue; // stale
    const j = next[i];
    const after = next[j];
    alive[j] = 0;
    next[i] = after;
    if (after < n) prev[after] = i;
    pairRank[i] = after < n ? rankOf(ranks, bin, i, next[after]) : NONE;
    if (pairRank[i] !== NONE) heapPush(heap, key(pairRank[i], i));
    const p = prev[i];
    if (p >= 0) {
      pairRank[p] = rankOf(ranks, bin, p, after);
      if (pairRank[p] !== NONE) heapPush(heap, key(pairRank[p], p));
    }
  }
  const out: number[] = [];
  for (let i = 0; i < n; i = next[i]) out.push(i);
  out.push(n);
  return Int32Array.from(out);
}

function heapPush(h: number[], v: number): void {
  let i = h.length;
  h.push(v);
  while (i > 0) {
    const p = (i - 1) >> 1;
    if (h[p] <= v) break;
    h[i] = h[p];
    i = p;
  }
  h[i] = v;
}

function heapPop(h: number[]): number {
  const top = h[0];
  const last = h.pop() as number;
  const n = h.length;
  if (n > 0) {
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && h[c + 1] < h[c]) c++;
      if (h[c] >= last) break;
      h[i] = h[c];
      i = c;
    }
    h[i] = last;
  }
  return top;
}

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) >= 0x80) return false;
  return true;
}

/** Encodes pieces to ids against one vocabulary, caching the ids of short pieces. */
export class PieceEncoder {
  private readonly cache = new Map<string, number | number[]>();

  constructor(private readonly vocab: Vocab) {}

  /** Appends the ids of the piece text[start, end) to `out`. */
  encode(text: string, start: number, end: number, out: number[]): void {
    const piece = text.substring(start, end);
    const hit = this.cache.get(piece);
    if (hit !== undefined) {
      if (typeof hit === 'number') out.push(hit);
      else for (let t = 0; t < hit.length; t++) out.push(hit[t]);
      return;
    }
    const ids = this.encodeUncached(piece);
    if (piece.length <= CACHE_PIECE_CHARS) {
      if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
      this.cache.set(piece, ids.length === 1 ? ids[0] : ids);
    }
    for (let t = 0; t < ids.length; t++) out.push(ids[t]);
  }

  private encodeUncached(piece: string): number[] {
    const ranks = this.vocab.ranks;
    const bin = isAscii(piece) ? piece : utf8Binary(piece);
    const whole = ranks.get(bin);
    if (whole !== undefined) return [whole];
    const bounds = bin.length <= SMALL ? mergeSmall(bin, ranks) : mergeLarge(bin, ranks);
    const ids: number[] = [];
    for (let p = 0; p + 1 < bounds.length; p++) {
      const id = ranks.get(bin.substring(bounds[p], bounds[p + 1]));
      if (id === undefined) throw new Error(`BPE: a byte of "${piece}" has no token in ${this.vocab.name}`);
      ids.push(id);
    }
    return ids;
  }
}
