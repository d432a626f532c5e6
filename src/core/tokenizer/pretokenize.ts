// Pre-tokenisers: split text into the pieces that BPE encodes one by one, exactly as the regular expression of
// each encoding does in OpenAI's tiktoken (leftmost-first alternation, greedy quantifiers, Rust's Unicode
// classes), but as hand-written linear scanners: no regex engine, no backtracking blow-up on long runs.
// Each scanner takes the text, a start offset and the end of the segment (specials cut the text into
// segments; lookaheads see the segment's end as the end of input) and returns where the piece ends.
import { classOf, codePointAt, LETTER, LOWER, NUMBER, SPACE, UPPER } from './charClass';
import type { SplitPattern } from './vocab';

export type PieceScanner = (s: string, i: number, end: number) => number;

const LNS = LETTER | NUMBER | SPACE;

function width(cp: number): number {
  return cp > 0xffff ? 2 : 1;
}

/** End of the run of code points whose class has a bit of `mask`. */
function runOf(s: string, i: number, end: number, mask: number): number {
  while (i < end) {
    const cp = codePointAt(s, i, end);
    if ((classOf(cp) & mask) === 0) break;
    i += width(cp);
  }
  return i;
}

/** End of the run of [^\s\p{L}\p{N}]. */
function runOther(s: string, i: number, end: number): number {
  while (i < end) {
    const cp = codePointAt(s, i, end);
    if ((classOf(cp) & LNS) !== 0) break;
    i += width(cp);
  }
  return i;
}

/** \p{N}{1,3} starting at i (the caller knows s[i] is a number). */
function runNumber3(s: string, i: number, end: number): number {
  for (let n = 0; n < 3 && i < end; n++) {
    const cp = codePointAt(s, i, end);
    if ((classOf(cp) & NUMBER) === 0) break;
    i += width(cp);
  }
  return i;
}

/** 's|'t|'re|'ve|'m|'ll|'d at i (s[i] is an apostrophe); ASCII case-insensitive when `fold`. -1 if none. */
function contraction(s: string, i: number, end: number, fold: boolean): number {
  if (i + 1 >= end) return -1;
  const f = fold ? 0x20 : 0;
  const a = s.charCodeAt(i + 1) | f;
  if (a === 115 || a === 116 || a === 109 || a === 100) return i + 2; // s t m d
  if (i + 2 >= end) return -1;
  const b = s.charCodeAt(i + 2) | f;
  if ((a === 114 && b === 101) || (a === 118 && b === 101) || (a === 108 && b === 108)) return i + 3; // re ve ll
  return -1;
}

/** \s+(?!\S)|\s+ at i (s[i] is whitespace). White_Space code points are all single UTF-16 units. */
function spaceRun(s: string, i: number, end: number): number {
  const w = runOf(s, i, end, SPACE);
  return w === end || w - i === 1 ? w : w - 1;
}

/** \s*[\r\n]+|\s+(?!\S)|\s+ at i: up to the last line break of the run, else as spaceRun. */
function spaceRunWithBreaks(s: string, i: number, end: number): number {
  const w = runOf(s, i, end, SPACE);
  for (let p = w - 1; p >= i; p--) {
    const c = s.charCodeAt(p);
    if (c === 10 || c === 13) return p + 1;
  }
  return w === end || w - i === 1 ? w : w - 1;
}

/** r50k/gpt2: 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+ */
export function scanGpt2(s: string, i: number, end: number): number {
  const c = s.charCodeAt(i);
  if (c === 39) {
    const e = contraction(s, i, end, false);
    if (e > 0) return e;
  }
  const j = c === 32 && i + 1 < end ? i + 1 : i; // an optional leading space joins the next run
  const k = classOf(codePointAt(s, j, end));
  if (k & LETTER) return runOf(s, j, end, LETTER);
  if (k & NUMBER) return runOf(s, j, end, NUMBER);
  if ((k & SPACE) === 0) return runOther(s, j, end);
  return spaceRun(s, i, end);
}

/** cl100k_base: (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+ */
export function scanCl100k(s: string, i: number, end: number): number {
  const c = s.charCodeAt(i);
  if (c === 39) {
    const e = contraction(s, i, end, true);
    if (e > 0) return e;
  }
  const cp = codePointAt(s, i, end);
  const k = classOf(cp);
  if (k & LETTER) return runOf(s, i, end, LETTER);
  if (k & NUMBER) return runNumber3(s, i, end);
  const n = i + width(cp);
  if (c !== 10 && c !== 13 && n < end && classOf(codePointAt(s, n, end)) & LETTER) return runOf(s, n, end, LETTER);
  let j = -1;
  if ((k & SPACE) === 0) j = runOther(s, i, end);
  else if (c === 32 && n < end && (classOf(codePointAt(s, n, end)) & LNS) === 0) j = runOther(s, n, end);
  if (j < 0) return spaceRunWithBreaks(s, i, end);
  while (j < end && (s.charCodeAt(j) === 10 || s.charCodeAt(j) === 13)) j++;
  return j;
}

/** o200k's [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+ with backtracking, plus the optional contraction. */
function upperThenLower(s: string, p: number, end: number): number {
  let q = p;
  let lastLower = -1; // end of the last code point of the upper run that is also "lower"
  while (q < end) {
    const cp = codePointAt(s, q, end);
    const k = classOf(cp);
    if ((k & UPPER) === 0) break;
    q += width(cp);
    if (k & LOWER) lastLower = q;
  }
  const w = runOf(s, q, end, LOWER);
  const e = w > q ? w : lastLower;
  return e < 0 ? -1 : withContraction(s, e, end);
}

/** o200k's [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]* plus the optional contraction. */
function upperRun(s: string, p: number, end: number): number {
  const q = runOf(s, p, end, UPPER);
  return q === p ? -1 : withContraction(s, runOf(s, q, end, LOWER), end);
}

function withContraction(s: string, e: number, end: number): number {
  if (e < end && s.charCodeAt(e) === 39) {
    const c = contraction(s, e, end, true);
    if (c > 0) return c;
  }
  return e;
}

/** o200k_base: two cased-word alternatives (each with an optional [^\r\n\p{L}\p{N}] prefix), \p{N}{1,3},
 *  ?[^\s\p{L}\p{N}]+[\r\n/]*, then the whitespace alternatives of cl100k_base. */
export function scanO200k(s: string, i: number, end: number): number {
  const c = s.charCodeAt(i);
  const cp = codePointAt(s, i, end);
  const k = classOf(cp);
  const n = i + width(cp);
  const prefix = (k & (LETTER | NUMBER)) === 0 && c !== 10 && c !== 13 && n < end;
  let r: number;
  // Alternation order with the optional prefix tried first: a combining mark can be a prefix and a letter.
  if (prefix && (r = upperThenLower(s, n, end)) > 0) return r;
  if (k & (UPPER | LOWER) && (r = upperThenLower(s, i, end)) > 0) return r;
  if (prefix && (r = upperRun(s, n, end)) > 0) return r;
  if (k & UPPER && (r = upperRun(s, i, end)) > 0) return r;
  if (k & NUMBER) return runNumber3(s, i, end);
  let j = -1;
  if ((k & SPACE) === 0) j = runOther(s, i, end);
  else if (c === 32 && n < end && (classOf(codePointAt(s, n, end)) & LNS) === 0) j = runOther(s, n, end);
  if (j < 0) return spaceRunWithBreaks(s, i, end);
  while (j < end) {
    const d = s.charCodeAt(j);
    if (d !== 10 && d !== 13 && d !== 47) break; // [\r\n/]*
    j++;
  }
  return j;
}

/** The piece scanner of each split pattern. */
export const SCANNERS: Record<SplitPattern, PieceScanner> = { gpt2: scanGpt2, gpt4: scanCl100k, gpt4o: scanO200k };
