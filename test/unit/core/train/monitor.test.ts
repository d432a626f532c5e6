// The training monitor's greedy sample: with the KV cache (while the text fits the context) and past the
// context (recomputed windows) it picks the tokens a plain full forward pass per token picks.
import * as assert from 'node:assert/strict';
import { initEngine, tf } from '../../../../src/core/engine';
import type { GptModel } from '../../../../src/core/model/gpt';
import { greedyContinue } from '../../../../src/core/train/monitor';
import { sharpModel } from '../generate/helpers';

/** The reference: each token from a full forward pass over the last contextLength ids, no cache. */
function plainGreedy(model: GptModel, prompt: number[], count: number): number[] {
  const ids = [...prompt];
  for (let i = 0; i < count; i++) {
    const ctx = ids.slice(-model.config.contextLength);
    const logits = tf.tidy(() => model.forward(tf.tensor2d(ctx, [1, ctx.length], 'int32')).logits.arraySync() as number[][][]);
    const row = logits[0][ctx.length - 1];
    ids.push(row.indexOf(Math.max(...row)));
  }
  return ids.slice(prompt.length);
}

describe('greedyContinue', () => {
  before(async () => {
    await initEngine('cpu');
  });

  it('matches a full forward pass per token, inside the context and past it', async () => {
    const model = sharpModel(11);
    const prompt = [3, 14, 15, 9, 2]; // contextLength 8: three tokens fit, then the window slides
    const want = plainGreedy(model, prompt, 7);
    assert.deepEqual(await greedyContinue(model, prompt, 7), want);
    assert.ok(new Set(want).size > 1, `a varied continuation ${want.join(' ')}`);
    const start = tf.memory().numTensors;
    await greedyContinue(model, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 3); // a prompt longer than the context
    assert.equal(tf.memory().numTensors, start, 'no tensors left behind');
    model.dispose();
  });
});
