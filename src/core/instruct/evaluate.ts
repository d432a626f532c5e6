// Loss of a model on instruction data: every record is one sequence built as training builds it (its prompt
// style, one <|endoftext|> appended, cut to the context length, the prompt's targets ignored with the prompt
// mask), and the loss is the mean cross-entropy over every target that counts, across the whole file.
// Records are run in padded batches; padding targets are ignored, so a batch gives the same sum as its
// records one by one.
import { tf } from '../engine';
import * as ops from '../engine/ops';
import { throwIfAborted } from '../errors';
import type { GptModel } from '../model/gpt';
import type { Tokenizer } from '../tokenizer';
import { collateInstructions, encodeExample, IGNORE_INDEX } from './collate';
import type { InstructionRecord, PromptStyle } from './prompt';

export interface InstructEvalResult {
  /** Mean cross-entropy (nats) over the counted targets. */
  loss: number;
  /** exp(loss). */
  perplexity: number;
  /** Targets counted. */
  tokens: number;
  records: number;
}

export interface InstructEvalOptions {
  style: PromptStyle;
  maskPrompt?: boolean;
  /** Records per forward pass. Default 8. */
  batchSize?: number;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

/** Sum of the cross-entropies of the counted targets of a batch, and how many there were. */
function batchSum(model: GptModel, inputs: Int32Array, targets: Int32Array, B: number, T: number): { sum: number; count: number } {
  let count = 0;
  for (const t of targets) if (t !== IGNORE_INDEX) count++;
  if (count === 0) return { sum: 0, count };
  const mean = tf.tidy(() => {
    const { logits } = model.forward(tf.tensor2d(inputs, [B, T], 'int32')); // (B, T, V)
    const V = logits.shape[2];
    return ops.crossEntropy(tf.reshape(logits, [B * T, V]) as tf.Tensor2D, tf.tensor1d(targets, 'int32')); // ()
  });
  const value = mean.dataSync()[0];
  mean.dispose();
  return { sum: value * count, count };
}

/** Mean loss and perplexity of `model` on instruction records. */
export async function evaluateInstructions(
  model: GptModel,
  tokenizer: Pick<Tokenizer, 'encode' | 'eotId'>,
  records: readonly InstructionRecord[],
  o: InstructEvalOptions,
): Promise<InstructEvalResult> {
  const batchSize = o.batchSize ?? 8;
  let sum = 0;
  let count = 0;
  for (let i = 0; i < records.length; i += batchSize) {
    throwIfAborted(o.signal);
    const items = records.slice(i, i + batchSize).map((r) => encodeExample(tokenizer, o.style, r));
    const b = collateInstructions(items, { padId: tokenizer.eotId, maxLength: model.config.contextLength, maskPrompt: o.maskPrompt });
    const r = batchSum(model, b.inputs, b.targets, b.batchSize, b.seqLen);
    sum += r.sum;
    count += r.count;
    o.onProgress?.(Math.min(i + batchSize, records.length), records.length);
    await new Promise((resolve) => setImmediate(resolve)); // let a cancel arrive between batches
  }
  const loss = count > 0 ? sum / count : NaN;
  return { loss, perplexity: Math.exp(loss), tokens: count, records: records.length };
}
