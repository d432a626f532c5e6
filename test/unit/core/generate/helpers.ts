// Test helpers for generation and evaluation: a toy byte-level tokenizer with tokens that split UTF-8
// characters, and a small GPT with sharpened random weights (so argmax choices are not near-ties).
import { tf } from '../../../../src/core/engine';
import { makeConfig } from '../../../../src/core/model/config';
import type { GptConfig } from '../../../../src/core/model/config';
import { GptModel } from '../../../../src/core/model/gpt';

const EOT_TEXT = '<|endoftext|>';
const utf8 = new TextEncoder();

/** Tokens: 0–25 'a'–'z', 26 ' ', 27/28 the two halves of 😀, 29/30 the two bytes of é, 31 <|endoftext|>, 32–41 '0'–'9', 42–47 '.,!?-\n'. */
function toyVocab(): Uint8Array[] {
  const v: Uint8Array[] = [];
  for (let c = 0; c < 26; c++) v.push(Uint8Array.of(97 + c));
  v.push(utf8.encode(' '));
  v.push(Uint8Array.of(0xf0, 0x9f), Uint8Array.of(0x98, 0x80));
  v.push(Uint8Array.of(0xc3), Uint8Array.of(0xa9));
  v.push(utf8.encode(EOT_TEXT));
  for (let d = 0; d < 10; d++) v.push(utf8.encode(String(d)));
  for (const ch of '.,!?-\n') v.push(utf8.encode(ch));
  return v;
}

export class ToyTokenizer {
  readonly name = 'toy';
  readonly vocab = toyVocab();
  readonly vocabSize = this.vocab.length;
  readonly eotId = 31;
  private readonly single = new Map<number, number>();

  constructor() {
    this.vocab.forEach((b, id) => {
      if (b.length === 1 && id !== 29) this.single.set(b[0], id);
    });
  }

  encode(text: string, opts: { allowSpecial?: boolean } = {}): number[] {
    const ids: number[] = [];
    const parts = opts.allowSpecial ? text.split(EOT_TEXT) : [text];
    parts.forEach((part, i) => {
      if (i > 0) ids.push(this.eotId);
      for (const ch of part) {
        if (ch === '😀') ids.push(27, 28);
        else if (ch === 'é') ids.push(29, 30);
        else {
          const id = this.single.get(ch.charCodeAt(0));
          if (id === undefined) throw new Error(`toy tokenizer cannot encode ${JSON.stringify(ch)}`);
          ids.push(id);
        }
      }
    });
    return ids;
  }

  tokenBytes(id: number): Uint8Array {
    return this.vocab[id];
  }

  decode(ids: ArrayLike<number>): string {
    const parts = Array.from(ids, (id) => this.vocab[id]);
    const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      all.set(p, at);
      at += p.length;
    }
    return new TextDecoder().decode(all);
  }
}

export const toyConfig: GptConfig = makeConfig('tiny', {
  vocabSize: 48,
  contextLength: 8,
  embDim: 16,
  nHeads: 2,
  nLayers: 2,
  dropRate: 0,
});

/** A random model with weights scaled up, so its next-token distributions are far from uniform. */
export function sharpModel(seed: number, config: GptConfig = toyConfig, scale = 6): GptModel {
  const model = GptModel.create(config, seed);
  for (const [name, v] of model.params) {
    if (name.endsWith('.weight') && !/ln_/.test(name)) v.assign(tf.tidy(() => tf.mul(v, scale)));
  }
  return model;
}

/** Logits of the last position of a plain forward pass over `ids` (no cache). */
export function fullForwardLast(model: GptModel, ids: number[]): Float32Array {
  const row = tf.tidy(() => {
    const x = tf.tensor2d(ids, [1, ids.length], 'int32'); // (1, T)
    const { logits } = model.forward(x); // (1, T, V)
    const V = model.config.vocabSize;
    return tf.reshape(tf.slice(logits, [0, ids.length - 1, 0], [1, 1, V]), [V]); // (V)
  });
  const data = row.dataSync() as Float32Array;
  row.dispose();
  return data;
}

/** A model whose logits are `row` at every position: ln_f maps everything to e₀ and wte's column 0 is `row`. */
export function constantLogitsModel(row: number[], config: GptConfig = toyConfig): GptModel {
  const model = sharpModel(5, config);
  const C = config.embDim;
  model.params.get('ln_f.weight')!.assign(tf.zeros([C]));
  model.params.get('ln_f.bias')!.assign(tf.tidy(() => tf.concat([tf.ones([1]), tf.zeros([C - 1])])));
  const wte = model.params.get('wte.weight')!;
  wte.assign(tf.tidy(() => tf.concat([tf.tensor2d(row, [row.length, 1]), tf.slice(wte, [0, 1], [-1, C - 1])], 1)));
  return model;
}
