import * as assert from 'node:assert/strict';
import { initEngine, tf } from '../../../../src/core/engine';
import { CancelledError, LlmLabError } from '../../../../src/core/errors';
import { evalWindows, evaluateIds, evaluateText } from '../../../../src/core/eval';
import { GptModel } from '../../../../src/core/model/gpt';
import { sharpModel, ToyTokenizer, toyConfig } from '../generate/helpers';

/** −log p(target) at every position of one plain forward pass over `input`, computed in JavaScript. */
function tokenLosses(model: GptModel, input: number[], target: number[]): number[] {
  const t = tf.tidy(() => model.forward(tf.tensor2d(input, [1, input.length], 'int32')).logits);
  const data = t.dataSync() as Float32Array;
  t.dispose();
  const V = model.config.vocabSize;
  return target.map((y, i) => {
    const row = data.subarray(i * V, (i + 1) * V);
    const max = Math.max(...row);
    const lse = max + Math.log(row.reduce((s, v) => s + Math.exp(v - max), 0));
    return lse - row[y];
  });
}

describe('evaluate', () => {
  before(async () => {
    await initEngine('cpu');
  });

  it('cuts n tokens into consecutive windows of the context, the last one shorter', () => {
    assert.deepEqual(evalWindows(20, 8), [[0, 8], [8, 16], [16, 19]]);
    assert.deepEqual(evalWindows(17, 8), [[0, 8], [8, 16]]);
    assert.deepEqual(evalWindows(2, 8), [[0, 1]]);
  });

  it('gives ln V and perplexity V for a model whose logits are all equal', async () => {
    const model = GptModel.create(toyConfig, 1);
    for (const v of model.params.values()) v.assign(tf.zerosLike(v)); // every logit 0
    const ids = Array.from({ length: 21 }, (_, i) => (i * 7) % 48);
    const r = await evaluateIds(model, ids);
    assert.ok(Math.abs(r.loss - Math.log(48)) < 1e-5, `${r.loss}`);
    assert.ok(Math.abs(r.perplexity - 48) < 1e-3);
    assert.equal(r.tokens, 21);
    assert.equal(r.predicted, 20);
    assert.equal(r.windows, 3);
    model.dispose();
  });

  it('averages over every predicted token, each window seen afresh from position 0', async () => {
    const model = sharpModel(3);
    const ctx = toyConfig.contextLength;
    const ids = Array.from({ length: 2 * ctx + 4 }, (_, i) => (i * 13 + 5) % 48);
    const perWindow = evalWindows(ids.length, ctx).map(([s, e]) => tokenLosses(model, ids.slice(s, e), ids.slice(s + 1, e + 1)));
    const all = perWindow.flat();
    assert.equal(all.length, ids.length - 1);
    const expected = all.reduce((a, b) => a + b, 0) / all.length;
    const meanOfMeans = perWindow.reduce((a, w) => a + w.reduce((x, y) => x + y, 0) / w.length, 0) / perWindow.length;
    assert.ok(Math.abs(expected - meanOfMeans) > 1e-3, 'the test text must tell the two means apart');
    for (const batchSize of [1, 2, 8]) {
      const r = await evaluateIds(model, ids, { batchSize });
      assert.ok(Math.abs(r.loss - expected) < 1e-4, `batch ${batchSize}: ${r.loss} vs ${expected}`);
      assert.ok(Math.abs(r.perplexity - Math.exp(expected)) < 1e-3 * Math.exp(expected));
    }
    model.dispose();
  });

  it('encodes text with the tokenizer, reports progress and leaks no tensors', async () => {
    const model = sharpModel(4);
    const tok = new ToyTokenizer();
    const text = 'the quick brown fox jumps over the lazy dog';
    const before = tf.memory().numTensors;
    const seen: Array<[number, number]> = [];
    const r = await evaluateText(model, tok, text, { onProgress: (d, t) => seen.push([d, t]) });
    const direct = await evaluateIds(model, tok.encode(text));
    assert.equal(r.loss, direct.loss);
    assert.equal(tf.memory().numTensors, before);
    assert.deepEqual(seen[seen.length - 1], [text.length - 1, text.length - 1]);
    assert.ok(seen.every(([d], i) => i === 0 || d > seen[i - 1][0]));
    model.dispose();
  });

  it('stops on an aborted signal and rejects too-short or out-of-vocabulary input', async () => {
    const model = sharpModel(4);
    const ac = new AbortController();
    ac.abort();
    await assert.rejects(evaluateIds(model, [1, 2, 3], { signal: ac.signal }), CancelledError);
    const isCode = (code: string) => (e: unknown) => e instanceof LlmLabError && e.code === code;
    await assert.rejects(evaluateIds(model, [5]), isCode('bad-data'));
    await assert.rejects(evaluateIds(model, [5, 48]), isCode('bad-data'));
    await assert.rejects(evaluateIds(model, [5, 6], { batchSize: 0 }), isCode('bad-argument'));
    model.dispose();
  });
});
