import * as assert from 'node:assert/strict';
import { initEngine, tf } from '../../../../src/core/engine';
import { CancelledError, LlmLabError } from '../../../../src/core/errors';
import { argmax, generate, generateText } from '../../../../src/core/generate';
import type { GeneratedToken, GenerateOptions } from '../../../../src/core/generate';
import type { GptModel } from '../../../../src/core/model/gpt';
import { constantLogitsModel, fullForwardLast, sharpModel, ToyTokenizer, toyConfig } from './helpers';

const tok = new ToyTokenizer();

async function collect(model: GptModel, prompt: string, opts: GenerateOptions) {
  const items: GeneratedToken[] = [];
  const logits: Float32Array[] = [];
  for await (const t of generate(model, tok, prompt, { ...opts, onLogits: (l) => logits.push(Float32Array.from(l)) })) {
    items.push(t);
  }
  return { items, ids: items.map((t) => t.id), text: items.map((t) => t.text).join(''), logits };
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('generate', () => {
  let model: GptModel;
  before(async () => {
    await initEngine('cpu');
    model = sharpModel(11);
  });
  after(() => model.dispose());

  it('greedy picks the argmax of a full forward pass at every step', async () => {
    const prompt = 'ab';
    const { ids, logits } = await collect(model, prompt, { maxNewTokens: 5, temperature: 0, stopAtEot: false });
    assert.equal(ids.length, 5);
    const seq = tok.encode(prompt);
    ids.forEach((id, i) => {
      const ref = fullForwardLast(model, seq);
      assert.ok(maxAbsDiff(ref, logits[i]) < 1e-4, `step ${i}: cached logits differ from a full forward`);
      assert.equal(id, argmax(ref), `step ${i}`);
      seq.push(id);
    });
  });

  it('with the KV cache equals recomputing the window at every step (tokens and logits)', async () => {
    for (const opts of [
      { maxNewTokens: 6, temperature: 0, stopAtEot: false },
      { maxNewTokens: 6, temperature: 1.3, seed: 42, stopAtEot: false },
    ]) {
      const cached = await collect(model, 'ab', opts);
      const plain = await collect(model, 'ab', { ...opts, noCache: true });
      assert.deepEqual(cached.ids, plain.ids);
      cached.logits.forEach((l, i) => assert.ok(maxAbsDiff(l, plain.logits[i]) < 1e-4, `step ${i}`));
    }
  });

  it('goes past the context length with the last contextLength tokens, as the sliding-window loop does', async () => {
    const ctx = toyConfig.contextLength;
    const prompt = 'hello';
    const n = 3 * ctx;
    const { ids, logits } = await collect(model, prompt, { maxNewTokens: n, temperature: 0, stopAtEot: false });
    assert.equal(ids.length, n);
    // The book's loop: forward the last ctx tokens, take the argmax of the last position.
    const seq = tok.encode(prompt);
    for (let i = 0; i < n; i++) {
      const ref = fullForwardLast(model, seq.slice(-ctx));
      assert.ok(maxAbsDiff(ref, logits[i]) < 1e-4, `step ${i}`);
      assert.equal(ids[i], argmax(ref), `step ${i}`);
      seq.push(argmax(ref));
    }
    const plain = await collect(model, prompt, { maxNewTokens: n, temperature: 0, stopAtEot: false, noCache: true });
    assert.deepEqual(ids, plain.ids);
  });

  it('takes a prompt longer than the context from its last contextLength tokens', async () => {
    const prompt = 'abcdefghijklmnop';
    const a = await collect(model, prompt, { maxNewTokens: 3, temperature: 0, stopAtEot: false });
    const b = await collect(model, prompt.slice(-toyConfig.contextLength), { maxNewTokens: 3, temperature: 0, stopAtEot: false });
    assert.deepEqual(a.ids, b.ids);
  });

  it('top-k 1 and a tiny top-p both equal greedy, whatever the seed', async () => {
    const greedy = await collect(model, 'xy', { maxNewTokens: 8, temperature: 0, stopAtEot: false });
    for (const seed of [1, 2, 3]) {
      const k1 = await collect(model, 'xy', { maxNewTokens: 8, temperature: 1.5, topK: 1, seed, stopAtEot: false });
      const p0 = await collect(model, 'xy', { maxNewTokens: 8, temperature: 1.5, topP: 1e-6, seed, stopAtEot: false });
      assert.deepEqual(k1.ids, greedy.ids);
      assert.deepEqual(p0.ids, greedy.ids);
    }
  });

  it('reproduces a sampled run from its seed, and another seed gives another run', async () => {
    const opts = { maxNewTokens: 16, temperature: 1.5, stopAtEot: false };
    const a = await collect(model, 'q', { ...opts, seed: 7 });
    const b = await collect(model, 'q', { ...opts, seed: 7 });
    const c = await collect(model, 'q', { ...opts, seed: 8 });
    assert.deepEqual(a.ids, b.ids);
    assert.notDeepEqual(a.ids, c.ids);
  });

  it('only ever samples inside the top k', async () => {
    const { ids, logits } = await collect(model, 'zz', { maxNewTokens: 12, temperature: 2, topK: 3, seed: 9, stopAtEot: false });
    ids.forEach((id, i) => {
      const above = Array.from(logits[i]).filter((v) => v > logits[i][id]).length;
      assert.ok(above < 3, `step ${i}: token ${id} has ${above} better ones`);
    });
  });

  it('attaches the top candidates with probabilities that sum to at most 1, most likely first', async () => {
    const { items, logits } = await collect(model, 'ab', { maxNewTokens: 3, temperature: 0, topCandidates: 4, stopAtEot: false });
    items.forEach((t, i) => {
      const c = t.candidates!;
      assert.equal(c.length, 4);
      assert.equal(c[0].id, t.id, 'greedy picks the first candidate');
      assert.equal(c[0].id, argmax(logits[i]));
      for (let j = 1; j < c.length; j++) assert.ok(c[j - 1].prob >= c[j].prob);
      assert.ok(c.reduce((s, x) => s + x.prob, 0) <= 1 + 1e-9);
      assert.equal(c[1].text, tok.decode([c[1].id]));
    });
  });

  it('streams text pieces that join to the decode of the ids, even when tokens split a character', async () => {
    // Only 😀's first half (27), its second half (28) and <|endoftext|> (31) are likely.
    const row = new Array(48).fill(-30);
    row[27] = 2;
    row[28] = 2;
    row[31] = 1.5;
    const m = constantLogitsModel(row);
    let sawDanglingStop = false;
    for (let seed = 0; seed < 40; seed++) {
      const r = await collect(m, 'a', { maxNewTokens: 6, temperature: 1, seed });
      assert.equal(r.text, tok.decode(r.ids), `seed ${seed}`);
      assert.ok(!r.ids.includes(31), 'stops before <|endoftext|>');
      if (r.ids.length < 6 && r.ids.length > 0 && r.ids[r.ids.length - 1] === 27) sawDanglingStop = true;
    }
    assert.ok(sawDanglingStop, 'some run ended on half a character at <|endoftext|>');
    const one = await collect(m, 'a', { maxNewTokens: 1, temperature: 0 });
    assert.deepEqual(one.ids, [27]);
    assert.equal(one.text, '\uFFFD');
    m.dispose();
  });

  it('keeps <|endoftext|> when stopAtEot is false', async () => {
    const row = new Array(48).fill(-30);
    row[31] = 5;
    const m = constantLogitsModel(row);
    const stopped = await collect(m, 'a', { maxNewTokens: 3, temperature: 0 });
    const kept = await collect(m, 'a', { maxNewTokens: 3, temperature: 0, stopAtEot: false });
    assert.deepEqual(stopped.ids, []);
    assert.deepEqual(kept.ids, [31, 31, 31]);
    m.dispose();
  });

  it('stops with a CancelledError when the signal fires, and leaks no tensors', async () => {
    const before = tf.memory().numTensors;
    const ac = new AbortController();
    const got: number[] = [];
    await assert.rejects(async () => {
      for await (const t of generate(model, tok, 'abc', { maxNewTokens: 50, temperature: 0, stopAtEot: false, signal: ac.signal })) {
        got.push(t.id);
        if (got.length === 2) ac.abort();
      }
    }, CancelledError);
    assert.equal(got.length, 2);
    assert.equal(tf.memory().numTensors, before);
  });

  it('leaks no tensors, whether it runs out, goes past the context or the consumer stops early', async () => {
    const before = tf.memory().numTensors;
    await generateText(model, tok, 'abc', { maxNewTokens: 20, temperature: 0.8, seed: 1, stopAtEot: false, topCandidates: 3 });
    assert.equal(tf.memory().numTensors, before);
    for await (const t of generate(model, tok, 'abc', { maxNewTokens: 20, temperature: 0 })) {
      if (t.id >= 0) break;
    }
    assert.equal(tf.memory().numTensors, before);
  });

  it('rejects bad options with a clear LlmLabError', async () => {
    const bad: Partial<GenerateOptions>[] = [
      { maxNewTokens: -1 },
      { maxNewTokens: 2.5 },
      { maxNewTokens: 3, temperature: -0.1 },
      { maxNewTokens: 3, topK: 1.5 },
      { maxNewTokens: 3, topP: 0 },
      { maxNewTokens: 3, topP: 1.2 },
    ];
    for (const o of bad) {
      await assert.rejects(generateText(model, tok, 'a', o as GenerateOptions), (e: unknown) => {
        assert.ok(e instanceof LlmLabError && e.code === 'bad-argument', String(e));
        return true;
      });
    }
  });

  it('starts an empty prompt from <|endoftext|>', async () => {
    const a = await collect(model, '', { maxNewTokens: 4, temperature: 0, stopAtEot: false });
    const b = await collect(model, '<|endoftext|>', { maxNewTokens: 4, temperature: 0, stopAtEot: false });
    assert.deepEqual(a.ids, b.ids);
    assert.equal(a.ids.length, 4);
  });
});
