// Byte-pair merging of one pre-tokenised piece, with the exact merge order of OpenAI's tiktoken: repeatedly
// join the adjacent pair whose joined bytes have the lowest rank, leftmost first on ties, until no joined pair
// is a token (for a trained tokenizer: until no adjacent pair is in its merge list). Short pieces use a flat array scan; long ones (whitespace runs, minified code) a heap over a
// linked list, so the cost stays O(n log n). Frequent pieces are served from a cache.
import type { Vocab } from './vocab';
import { mergeKey, utf8Binary } from './vocab';

const NONE = 0x7fffffff;
const SMALL = 128;
const CACHE_SLOTS = 1 << 18;
const PAIR_SLOTS = 1 << 19;
const PAIR_MASK = PAIR_SLOTS - 1;
const CACHE_MASK = CACHE_SLOTS - 1;
const CACHE_PIECE_CHARS = 64;

/**
 * Which two tokens join into which token: (left id, right id) -> id of the joined bytes, or NONE. Joining two
 * parts is allowed exactly when their joined bytes are a token, and its rank is that token's id, so looking
 * pairs up by id gives the same merges as looking joined byte strings up. Answers are computed on first use
 * and kept in an open-addressing hash table (emptied when half full), so loading costs nothing and repeated
 * pairs cost no string building.
 */
export class MergeTable {
  private readonly keys = new Int32Array(2 * PAIR_SLOTS).fill(-1); // [left, right] per slot, left = -1 when empty
  private readonly values = new Int32Array(PAIR_SLOTS);
  private size = 0;
  private readonly strings: string[] = [];
  /** The id of each single byte. */
  readonly byteIds = new Int32Array(256);

  constructor(private readonly vocab: Vocab) {
    for (const [bytes, id] of vocab.ranks) {
      this.strings[id] = bytes;
      if (bytes.length === 1) this.byteIds[bytes.charCodeAt(0)] = id;
    }
  }

  /** The id of left's bytes followed by right's bytes, or NONE when that is not a token. */
  get(left: number, right: number): number {
    const keys = this.keys;
    let h = hash(left, right) & PAIR_MASK;
    for (;;) {
      const k = keys[2 * h];
      if (k === left && keys[2 * h + 1] === right) return this.values[h];
      if (k === -1) break;
      h = (h + 1) & PAIR_MASK;
    }
    const merges = this.vocab.merges;
    const joined = merges ? merges.get(mergeKey(left, right)) : this.vocab.ranks.get(this.strings[left] + this.strings[right]);
    const value = joined === undefined ? NONE : joined;
    if (this.size >= PAIR_SLOTS / 2) {
      keys.fill(-1);
      this.size = 0;
      h = hash(left, right) & PAIR_MASK;
    }
    keys[2 * h] = left;
    keys[2 * h + 1] = right;
    this.values[h] = value;
    this.size++;
    return value;
  }
}

function hash(a: number, b: number): number {
  let h = Math.imul(a, 0x9e3779b1) ^ Math.imul(b + 0x7f4a7c15, 0x85ebca6b);
  h ^= h >>> 15;
  return Math.imul(h, 0x2c1b3c6d) >>> 0;
}

let scratchIds = new Int32Array(SMALL + 2);
let scratchRank = new Int32Array(SMALL + 2);

/** The ids of a piece given as a binary string (one char per byte), array-scan version for short pieces. */
export function mergeSmall(bin: string, table: MergeTable): number[] {
  const n = bin.length;
  if (scratchIds.length < n + 2) {
    scratchIds = new Int32Array(n + 2);
    scratchRank = new Int32Array(n + 2);
  }
  const ids = scratchIds;
  const rank = scratchRank; // rank[i] joins parts i and i+1
  for (let i = 0; i < n; i++) ids[i] = table.byteIds[bin.charCodeAt(i)];
  for (let i = 0; i + 1 < n; i++) rank[i] = table.get(ids[i], ids[i + 1]);
  let m = n;
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
    ids[at] = best;
    for (let i = at + 1; i + 1 < m; i++) ids[i] = ids[i + 1];
    for (let i = at + 1; i + 2 < m; i++) rank[i] = rank[i + 1];
    m--;
    if (at + 1 < m) rank[at] = table.get(best, ids[at + 1]);
    if (at > 0) rank[at - 1] = table.get(ids[at - 1], best);
  }
  return Array.from(ids.subarray(0, m));
}

/** Same result as mergeSmall in O(n log n): a min-heap of (rank, position) keys, stale entries skipped. */
export function mergeLarge(bin: string, table: MergeTable): number[] {
  const n = bin.length;
  const ids = new Int32Array(n);
  const next = new Int32Array(n); // position of the following part (n after the last)
  const prev = new Int32Array(n);
  const pairRank = new Int32Array(n); // id of (part at i) joined with the next part, NONE when not a token
  const alive = new Uint8Array(n);
  const heap: number[] = [];
  const key = (r: number, i: number): number => r * n + i; // orders by rank, then leftmost
  for (let i = 0; i < n; i++) {
    ids[i] = table.byteIds[bin.charCodeAt(i)];
    next[i] = i + 1;
    prev[i] = i - 1;
    alive[i] = 1;
  }
  for (let i = 0; i + 1 < n; i++) {
    pairRank[i] = table.get(ids[i], ids[i + 1]);
    if (pairRank[i] !== NONE) heapPush(heap, key(pairRank[i], i));
  }
  pairRank[n - 1] = NONE;
  while (heap.length > 0) {
    const k = heapPop(heap);
    const i = k % n;
    const r = (k - i) / n;
    if (!alive[i] || pairRank[i] !== r) continue; // stale
    const j = next[i];
    const after = next[j];
    alive[j] = 0;
    ids[i] = r;
    next[i] = after;
    if (after < n) prev[after] = i;
    pairRank[i] = after < n ? table.get(r, ids[after]) : NONE;
    if (pairRank[i] !== NONE) heapPush(heap, key(pairRank[i], i));
    const p = prev[i];
    if (p >= 0) {
      pairRank[p] = table.get(ids[p], r);
      if (pairRank[p] !== NONE) heapPush(heap, key(pairRank[p], p));
    }
  }
  const out: number[] = [];
  for (let i = 0; i < n; i = next[i]) out.push(ids[i]);
  return out;
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

/**
 * Encodes pieces to ids against one vocabulary. Ids of short pieces are cached in an open-addressing table
 * probed straight from the text (FNV-1a hash, then a char-by-char compare), so a repeated piece costs no string
 * allocation; the table is emptied when half full.
 */
export class PieceEncoder {
  private readonly table: MergeTable;
  private readonly keys: Array<string | undefined> = new Array<string | undefined>(CACHE_SLOTS).fill(undefined);
  private readonly hashes = new Int32Array(CACHE_SLOTS);
  private readonly values: Array<number | number[]> = new Array<number | number[]>(CACHE_SLOTS).fill(0);
  private size = 0;
  /** With a merge list: whether BPE of a token's own bytes gives that token back (then a piece equal to it may skip merging). */
  private readonly wholeOk: Uint8Array | undefined;

  constructor(private readonly vocab: Vocab) {
    this.table = new MergeTable(vocab);
    if (vocab.merges) {
      this.wholeOk = new Uint8Array(vocab.size);
      for (const [bin, id] of vocab.ranks) {
        const ids = bin.length <= SMALL ? mergeSmall(bin, this.table) : mergeLarge(bin, this.table);
        if (ids.length === 1 && ids[0] === id) this.wholeOk[id] = 1;
      }
    }
  }

  /** Appends the ids of the piece text[start, end) to `out`. */
  encode(text: string, start: number, end: number, out: number[]): void {
    const len = end - start;
    if (len > CACHE_PIECE_CHARS) {
      const ids = this.encodeUncached(text.substring(start, end));
      for (let t = 0; t < ids.length; t++) out.push(ids[t]);
      return;
    }
    let h = 0x811c9dc5;
    for (let k = start; k < end; k++) h = Math.imul(h ^ text.charCodeAt(k), 0x01000193);
    const keys = this.keys;
    let slot = h & CACHE_MASK;
    for (let key = keys[slot]; key !== undefined; key = keys[slot]) {
      if (this.hashes[slot] === h && key.length === len) {
        let k = 0;
        while (k < len && key.charCodeAt(k) === text.charCodeAt(start + k)) k++;
        if (k === len) {
          const hit = this.values[slot];
          if (typeof hit === 'number') out.push(hit);
          else for (let t = 0; t < hit.length; t++) out.push(hit[t]);
          return;
        }
      }
      slot = (slot + 1) & CACHE_MASK;
    }
    const piece = text.substring(start, end);
    const ids = this.encodeUncached(piece);
    if (this.size >= CACHE_SLOTS / 2) {
      keys.fill(undefined);
      this.size = 0;
      slot = h & CACHE_MASK;
    }
    keys[slot] = piece;
    this.hashes[slot] = h;
    this.values[slot] = ids.length === 1 ? ids[0] : ids;
    this.size++;
    for (let t = 0; t < ids.length; t++) out.push(ids[t]);
  }

  private encodeUncached(piece: string): number[] {
    const bin = isAscii(piece) ? piece : utf8Binary(piece);
    // With tiktoken's rule a piece that is a token always merges into it; with a merge list only when that
    // token's own bytes merge into it.
    const whole = this.vocab.ranks.get(bin);
    if (whole !== undefined && (this.wholeOk === undefined || this.wholeOk[whole] === 1)) return [whole];
    return bin.length <= SMALL ? mergeSmall(bin, this.table) : mergeLarge(bin, this.table);
  }
}
