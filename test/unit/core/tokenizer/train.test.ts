import * as assert from 'node:assert/strict';
import { Rng } from '../../../../src/core/rng';
import type { Tokenizer } from '../../../../src/core/tokenizer';
import { tokenizerFromVocab } from '../../../../src/core/tokenizer';
import type { BpeModel } from '../../../../src/core/tokenizer/bpeModel';
import { vocabOfModel } from '../../../../src/core/tokenizer/bpeModel';
import { SCANNERS } from '../../../../src/core/tokenizer/pretokenize';
import type { TrainProgress } from '../../../../src/core/tokenizer/train';
import { trainBpe } from '../../../../src/core/tokenizer/train';
import type { SplitPattern } from '../../../../src/core/tokenizer/vocab';

const tokenizerOf = (model: BpeModel): Tokenizer => tokenizerFromVocab(vocabOfModel(model, 'test'));
const bytesOf = (s: string): number[] => [...Buffer.from(s, 'utf8')];

/**
 * A reference trainer written the slow, obvious way: recount every pair of every piece before each merge, take
 * the highest count (ties: smaller left id, then smaller right id), skip a pair whose bytes are already a
 * token, and merge left to right in every piece. Returns the merges and each piece's final tokens.
 */
function referenceTrain(texts: string[], pattern: SplitPattern, merges: number): { merges: Array<[number, number]>; pieces: Map<string, number[]> } {
  const scan = SCANNERS[pattern];
  const freq = new Map<string, number>();
  for (const t of texts) {
    for (const seg of t.split('<|endoftext|>')) {
      for (let i = 0; i < seg.length; ) {
        const j = scan(seg, i, seg.length);
        freq.set(seg.slice(i, j), (freq.get(seg.slice(i, j)) ?? 0) + 1);
        i = j;
      }
    }
  }
  const words = [...freq.keys()].map((p) => bytesOf(p));
  const counts = [...freq.values()];
  const bytes: string[] = Array.from({ length: 256 }, (_, b) => String.fromCharCode(b));
  const out: Array<[number, number]> = [];
  const refused = new Set<string>();
  while (out.length < merges) {
    const pairs = new Map<string, number>();
    words.forEach((w, k) => {
      for (let i = 0; i + 1 < w.length; i++) pairs.set(`${w[i]},${w[i + 1]}`, (pairs.get(`${w[i]},${w[i + 1]}`) ?? 0) + counts[k]);
    });
    let best: [number, number] | undefined;
    let bestCount = 0;
    for (const [key, c] of pairs) {
      if (refused.has(key)) continue;
      const [l, r] = key.split(',').map(Number);
      if (c > bestCount || (c === bestCount && best && (l < best[0] || (l === best[0] && r < best[1])))) {
        best = [l, r];
        bestCount = c;
      }
    }
    if (!best) break;
    const joined = bytes[best[0]] + bytes[best[1]];
    if (bytes.includes(joined)) {
      refused.add(`${best[0]},${best[1]}`);
      continue;
    }
    const id = bytes.length;
    bytes.push(joined);
    out.push(best);
    for (let k = 0; k < words.length; k++) {
      const w = words[k];
      const merged: number[] = [];
      for (let i = 0; i < w.length; i++) {
        if (i + 1 < w.length && w[i] === best[0] && w[i + 1] === best[1]) {
          merged.push(id);
          i++;
        } else merged.push(w[i]);
      }
      words[k] = merged;
    }
  }
  return { merges: out, pieces: new Map([...freq.keys()].map((p, k) => [p, words[k]])) };
}

describe('BPE training', () => {
  it('learns the hand-worked merges of "aaabdaaabac" (the Wikipedia example) with the stated tie-break', async () => {
    // Pair counts: aa 4, ab 2, bd 1, da 1, ba 1, ac 1 -> merge (a, a) into 256: "Z a b d Z a b a c".
    // Then Za 2 and ab 2 tie: the smaller left id wins, a (97) < Z (256) -> merge (a, b) into 257: "Z Y d Z Y a c".
    // Then ZY 2 is the most frequent -> merge (256, 257) into 258: "X d X a c".
    const r = await trainBpe(['aaabdaaabac'], { vocabSize: 256 + 3 + 1 });
    assert.deepEqual(r.model.merges, [
      [97, 97],
      [97, 98],
      [256, 257],
    ]);
    assert.deepEqual(r.model.specials, ['<|endoftext|>']);
    const tok = tokenizerOf(r.model);
    assert.deepEqual(tok.encode('aaabdaaabac'), [258, 100, 258, 97, 99]);
    assert.equal(tok.eotId, 259);
    assert.equal(tok.vocabSize, 260);
    // "aaab" = Z a b = Z Y = X; "aab" = Z b, and (Z, b) is no merge.
    assert.deepEqual(tok.encode('aaab<|endoftext|>aab', { allowSpecial: true }), [258, 259, 256, 98]);
  });

  it('breaks ties by the smaller left id, then the smaller right id, whatever the order of the texts', async () => {
    // "ba", "ab" and "ac" each occur twice: (97, 98) and (97, 99) share the smallest left id; 98 < 99 wins,
    // then (97, 99), then (98, 97).
    const texts = ['ba', 'ac', 'ab', 'ab', 'ac', 'ba'];
    for (const order of [texts, [...texts].reverse()]) {
      const r = await trainBpe(order, { vocabSize: 256 + 1 + 3, pattern: 'gpt4' });
      assert.deepEqual(r.model.merges.slice(0, 3), [
        [97, 98],
        [97, 99],
        [98, 97],
      ]);
    }
  });

  it('learns exactly what a recount-every-merge reference learns, and encodes each piece as training left it', async () => {
    const rng = new Rng(5);
    const alphabet = ['a', 'b', 'aa', 'ab', ' ', ' a', 'é', '\n', 'ba', '1', '😀', "'s", '.'];
    for (const pattern of ['gpt2', 'gpt4'] as const) {
      for (let trial = 0; trial < 6; trial++) {
        const texts = Array.from({ length: 3 }, () => {
          let s = '';
          for (let i = 0; i < 300; i++) s += alphabet[rng.int(alphabet.length)];
          return s;
        });
        const wanted = 40 + trial * 10;
        const ref = referenceTrain(texts, pattern, wanted);
        const r = await trainBpe(texts, { vocabSize: 256 + wanted + 1, pattern });
        assert.deepEqual(r.model.merges, ref.merges, `${pattern} trial ${trial}`);
        const tok = tokenizerOf(r.model);
        for (const [piece, ids] of ref.pieces) assert.deepEqual(tok.encode(piece), ids, JSON.stringify(piece));
      }
    }
  });

  it('never learns special tokens: text is cut at them', async () => {
    const r = await trainBpe(['<|endoftext|><|endoftext|><|endoftext|>', 'x<|pad|>x<|pad|>'], { vocabSize: 300, specials: ['<|pad|>'] });
    assert.deepEqual(r.model.specials, ['<|endoftext|>', '<|pad|>']);
    assert.deepEqual(r.model.merges, [], 'only single characters are left between the specials');
    assert.equal(r.pieces, 2);
    assert.equal(r.mergesWanted, 300 - 256 - 2);
  });

  it('stops early when the text runs out of pairs and says how many it wanted', async () => {
    const r = await trainBpe(['abc'], { vocabSize: 1000 });
    assert.deepEqual(r.model.merges, [
      [97, 98],
      [256, 99],
    ]);
    assert.equal(r.mergesWanted, 1000 - 257);
  });

  it('rejects a vocabulary too small or too large, a bad pattern and a bad special token', async () => {
    await assert.rejects(trainBpe(['x'], { vocabSize: 256 }), /from 257 .* got 256/);
    await assert.rejects(trainBpe(['x'], { vocabSize: 2 ** 21 }), /vocabulary size/);
    await assert.rejects(trainBpe(['x'], { vocabSize: 300, pattern: 'gpt4o' }), /gpt2 or gpt4/);
    await assert.rejects(trainBpe(['x'], { vocabSize: 300, specials: ['has space'] }), /without whitespace/);
  });

  it('reports progress in both phases and stops with a cancel', async () => {
    const text = Array.from({ length: 20000 }, (_, i) => `word${i % 997} `).join('');
    const phases = new Set<string>();
    let last: TrainProgress | undefined;
    await trainBpe([text], { vocabSize: 600, onProgress: (p) => ((last = p), phases.add(p.phase)) });
    assert.deepEqual([...phases], ['count', 'merge']);
    assert.equal(last?.done, last?.total);
    const ac = new AbortController();
    ac.abort();
    await assert.rejects(trainBpe([text.repeat(20)], { vocabSize: 5000, signal: ac.signal }), { code: 'cancelled' });
  });
});
