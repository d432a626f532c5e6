// Attention maps for the lab panel: the tokens of a text and, for every layer and head, the T×T matrix
// of attention weights (row = query position, column = key position; causal, so each row's weights sit on
// and left of the diagonal and sum to 1).
import { tf } from '../engine';
import { LlmLabError } from '../errors';
import type { GptModel } from '../model/gpt';

/** What attention maps need of a tokenizer. */
export interface InspectTokenizer {
  encode(text: string, opts?: { allowSpecial?: boolean }): number[];
  decode(ids: ArrayLike<number>): string;
}

export interface AttentionMaps {
  /** Each token's text (a token that splits a character shows U+FFFD). */
  tokens: string[];
  ids: number[];
  /** [layer][head]: T×T row-major weights, row i = how position i attends to positions 0..i. */
  layers: Float32Array[][];
  /** True when the text had more tokens than the context and only the first contextLength were used. */
  truncated: boolean;
}

/**
 * Every layer's and head's attention weights over the tokens of `text` (at most the context length). Read back
 * asynchronously, as a GPU backend requires.
 */
export async function attentionMaps(model: GptModel, tokenizer: InspectTokenizer, text: string): Promise<AttentionMaps> {
  const all = tokenizer.encode(text, { allowSpecial: true });
  if (all.length === 0) throw new LlmLabError('bad-argument', 'The text is empty; give some text to see its attention.');
  const ctx = model.config.contextLength;
  const ids = all.slice(0, ctx);
  const T = ids.length;
  const H = model.config.nHeads;
  const input = tf.tensor2d(ids, [1, T], 'int32'); // (1, T)
  const { logits, attention = [] } = model.forward(input, { returnAttention: true });
  const weights = tf.stack(attention); // (L, 1, H, T, T)
  // The model hands out the per-layer maps as kept tensors: free them here.
  tf.dispose([input, logits, ...attention]);
  const data = (await weights.data()) as Float32Array;
  weights.dispose();
  const layers: Float32Array[][] = [];
  for (let l = 0; l < model.config.nLayers; l++) {
    const heads: Float32Array[] = [];
    for (let h = 0; h < H; h++) {
      const at = (l * H + h) * T * T;
      heads.push(data.slice(at, at + T * T));
    }
    layers.push(heads);
  }
  return { tokens: ids.map((id) => tokenizer.decode([id])), ids, layers, truncated: all.length > ctx };
}
