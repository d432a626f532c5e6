import * as assert from 'node:assert/strict';
import { initEngine, tf } from '../../../../src/core/engine';
import { evaluateInstructions, formatExample, formatPrompt } from '../../../../src/core/instruct';
import { makeConfig } from '../../../../src/core/model/config';
import { GptModel } from '../../../../src/core/model/gpt';
import { getTokenizer } from '../../../../src/core/tokenizer';

const records = [
  { instruction: 'Give a synonym of fast.', input: '', output: 'Quick.' },
  { instruction: 'Translate to French.', input: 'Good morning, my friend.', output: 'Bonjour, mon ami.' },
  { instruction: 'Is 7 prime?', input: '', output: 'Yes, 7 is a prime number.' },
];

describe('instruction-data evaluation', () => {
  before(async () => {
    await initEngine('cpu');
  });

  it('averages over every counted target, record by record as by hand, with and without the prompt mask', async () => {
    const model = GptModel.create(makeConfig('tiny', { contextLength: 96 }), 4);
    const tok = getTokenizer('gpt2');
    // By hand: each record alone, its tokens + <|endoftext|>, −log p(next) at every position that counts.
    const sum = [0, 0];
    const count = [0, 0];
    for (const r of records) {
      const ids = [...tok.encode(formatExample('alpaca', r)), tok.eotId];
      const promptLength = tok.encode(formatPrompt('alpaca', r)).length;
      const T = ids.length - 1;
      const logits = tf.tidy(() => model.forward(tf.tensor2d([ids.slice(0, T)], [1, T], 'int32')).logits).dataSync();
      const V = model.config.vocabSize;
      for (let t = 0; t < T; t++) {
        const row = logits.subarray(t * V, (t + 1) * V);
        let max = -Infinity;
        for (const x of row) max = Math.max(max, x);
        let z = 0;
        for (const x of row) z += Math.exp(x - max);
        const nll = -(row[ids[t + 1]] - max - Math.log(z));
        for (const masked of [0, 1]) {
          if (masked && t < promptLength - 1) continue;
          sum[masked] += nll;
          count[masked]++;
        }
      }
    }
    for (const masked of [0, 1]) {
      // Batched with padding (the three records differ in length).
      const r = await evaluateInstructions(model, tok, records, { style: 'alpaca', maskPrompt: masked === 1, batchSize: 3 });
      const want = sum[masked] / count[masked];
      assert.equal(r.tokens, count[masked]);
      assert.equal(r.records, 3);
      assert.ok(Math.abs(r.loss - want) < 1e-4 * want, `${r.loss} vs ${want}`);
      assert.ok(Math.abs(r.perplexity - Math.exp(r.loss)) < 1e-9 * r.perplexity);
    }
    assert.ok(count[1] < count[0] - 30, 'the mask drops the prompt targets');
    model.dispose();
  });
});
