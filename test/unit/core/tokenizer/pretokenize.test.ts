import * as assert from 'node:assert/strict';
import { Rng } from '../../../../src/core/rng';
import type { PieceScanner } from '../../../../src/core/tokenizer/pretokenize';
import { scanCl100k, scanGpt2, scanO200k } from '../../../../src/core/tokenizer/pretokenize';

// Each encoding's published pattern, rewritten for a JavaScript regex with Rust's meaning: \s is the Unicode
// White_Space property, and the case-insensitive contraction group is spelled out (Node 20 has no (?i:...)).
const CONTRACTIONS_I = "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])";
const S = '\\p{White_Space}';
const NS = '\\P{White_Space}';
const PATTERNS: Record<string, string> = {
  gpt2: `'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^${S}\\p{L}\\p{N}]+|${S}+(?!${NS})|${S}+`,
  cl100k_base:
    `${CONTRACTIONS_I}|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^${S}\\p{L}\\p{N}]+[\\r\\n]*|${S}*[\\r\\n]+|${S}+(?!${NS})|${S}+`,
  o200k_base:
    `[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+${CONTRACTIONS_I}?|` +
    `[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*${CONTRACTIONS_I}?|` +
    `\\p{N}{1,3}| ?[^${S}\\p{L}\\p{N}]+[\\r\\n/]*|${S}*[\\r\\n]+|${S}+(?!${NS})|${S}+`,
};
const SCANNERS: Record<string, PieceScanner> = { gpt2: scanGpt2, cl100k_base: scanCl100k, o200k_base: scanO200k };

function ourPieces(scan: PieceScanner, text: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; ) {
    const j = scan(text, i, text.length);
    assert.ok(j > i, 'a scanner must always advance');
    out.push(text.slice(i, j));
    i = j;
  }
  return out;
}

const ATOMS = [' ', '  ', '\t', '\n', '\r\n', 'a', 'Z', 'HELLO', 'hello', 'é', 'e\u0301', '\u0301', 'ß', 'ǅ', 'ʰ', 'ſ', "'", "'s", "'S", "'ll", "'Re", '1', '1234', '٣', '½', '日本', '😀', '\ufeff', '\u0085', '\u00a0', '/', '//', '.', '!?', '"', '(', '{', '_', '\u200d', '\u0000', '\u000b'];

describe('pre-tokenisers', () => {
  for (const name of Object.keys(PATTERNS)) {
    it(`split ${name} text into the same pieces as its pattern does`, () => {
      const re = new RegExp(PATTERNS[name], 'gu');
      const rng = new Rng(name.length);
      const texts = [
        "Hello, world! It's 2024: we've 3 cats' toys.\n\n  def f(x):\r\n\treturn x//2  \n",
        "I'M DON'T HELLO'S McDonald's iPhone XMLHttpRequest état ÉTAT",
        ' '.repeat(40) + 'x\n\n\n  \t y   ',
      ];
      for (let n = 0; n < 400; n++) {
        let t = '';
        for (let k = 1 + rng.int(10); k > 0; k--) t += ATOMS[rng.int(ATOMS.length)];
        texts.push(t);
      }
      for (const text of texts) {
        const expected = Array.from(text.matchAll(re), (m) => m[0]);
        assert.equal(expected.join(''), text, 'the pattern covers every character');
        assert.deepEqual(ourPieces(SCANNERS[name], text), expected, JSON.stringify(text));
      }
    });
  }

  it('treat U+FEFF as a non-space and U+0085 as a space, like Rust and unlike JavaScript\'s \\s', () => {
    assert.deepEqual(ourPieces(scanGpt2, 'a \ufeffb'), ['a', ' \ufeff', 'b']);
    assert.deepEqual(ourPieces(scanGpt2, 'a\u0085\u0085b'), ['a', '\u0085', '\u0085', 'b']);
  });
});
