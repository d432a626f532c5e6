// Unicode character classes used by the pre-tokenisers, looked up per code point in a lazily filled table.
// The classes follow Rust's `regex` crate (which OpenAI's tiktoken uses): `\s` is the Unicode White_Space
// property, so U+0085 is whitespace and U+FEFF is not (JavaScript's `\s` says the opposite for both).

/** \p{L}: any letter. */
export const LETTER = 1;
/** \p{N}: any number. */
export const NUMBER = 2;
/** \s in Rust's regex: the Unicode White_Space property. */
export const SPACE = 4;
/** [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]: the "upper" letters of o200k_base's pattern. */
export const UPPER = 8;
/** [\p{Ll}\p{Lm}\p{Lo}\p{M}]: the "lower" letters of o200k_base's pattern. */
export const LOWER = 16;
const KNOWN = 128;

const table = new Uint8Array(0x110000);

const reLetter = /^\p{L}$/u;
const reNumber = /^\p{N}$/u;
const reSpace = /^\p{White_Space}$/u;
const reUpper = /^[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]$/u;
const reLower = /^[\p{Ll}\p{Lm}\p{Lo}\p{M}]$/u;

function compute(cp: number): number {
  // Lone surrogates (U+D800..U+DFFF) match none of the classes, like U+FFFD they stand for.
  const ch = String.fromCodePoint(cp);
  let c = KNOWN;
  if (reLetter.test(ch)) c |= LETTER;
  if (reNumber.test(ch)) c |= NUMBER;
  if (reSpace.test(ch)) c |= SPACE;
  if (reUpper.test(ch)) c |= UPPER;
  if (reLower.test(ch)) c |= LOWER;
  return c;
}

/** The class bits of a code point (0..0x10FFFF). */
export function classOf(cp: number): number {
  const c = table[cp];
  return c !== 0 ? c : (table[cp] = compute(cp));
}

/** The code point at UTF-16 offset i (a surrogate pair only when both halves lie before `end`). */
export function codePointAt(s: string, i: number, end: number): number {
  const c = s.charCodeAt(i);
  if (c >= 0xd800 && c < 0xdc00 && i + 1 < end) {
    const d = s.charCodeAt(i + 1);
    if (d >= 0xdc00 && d < 0xe000) return 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
  }
  return c;
}

for (let cp = 0; cp < 0x80; cp++) classOf(cp);
