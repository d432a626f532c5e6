import * as assert from 'node:assert/strict';
import { completeText } from '../../../../src/core/complete';
import { initEngine, tf } from '../../../../src/core/engine';
import { CancelledError } from '../../../../src/core/errors';
import type { GptModel } from '../../../../src/core/model/gpt';
import { constantLogitsModel, ToyTokenizer, toyConfig } from '../generate/helpers';

const tok = new ToyTokenizer();
const config = { ...toyConfig, contextLength: 64 };
/** A model that always says token `id` (toy ids: 'a' 0, '\n' 47, <|endoftext|> 31). */
const always = (id: number): GptModel => constantLogitsModel(Array.from({ length: config.vocabSize }, (_, i) => (i === id ? 10 : 0)), config);

describe('completeText', () => {
  const models: GptModel[] = [];
  const model = (id: number) => {
    const m = always(id);
    models.push(m);
    return m;
  };
  before(async () => {
    await initEngine('cpu');
  });
  after(() => models.forEach((m) => m.dispose()));

  it('generates up to the token limit when no rule fires', async () => {
    const r = await completeText(model(0), tok, { prefix: 'ab', mode: 'line', maxLines: 1, maxNewTokens: 5 });
    assert.deepEqual(r, { text: 'aaaaa', tokens: 5, promptTokens: 2, stop: 'max-tokens', fim: false });
  });

  it('stops computing as soon as a stop rule fires', async () => {
    let computed = 0;
    const r = await completeText(model(47), tok, { prefix: 'ab', mode: 'line', maxLines: 1, maxNewTokens: 20 }, { onToken: (n) => (computed = n) });
    assert.deepEqual([r.text, r.stop, r.tokens, computed], ['', 'newline', 1, 1]);
  });

  it('ends at <|endoftext|>', async () => {
    const r = await completeText(model(31), tok, { prefix: 'ab', mode: 'block', maxLines: 4, maxNewTokens: 8 });
    assert.deepEqual([r.text, r.stop, r.tokens], ['', 'eot', 0]);
  });

  it('drops a suggestion the text after the cursor already holds', async () => {
    const r = await completeText(model(0), tok, { prefix: 'ab', suffix: 'aaaa b', mode: 'line', maxLines: 1, maxNewTokens: 3 });
    assert.deepEqual([r.text, r.stop], ['', 'duplicate']);
  });

  it('stops mid-generation when a cancel arrives from the event loop', async () => {
    const controller = new AbortController();
    let computed = 0;
    const run = completeText(model(0), tok, { prefix: 'ab', mode: 'line', maxLines: 1, maxNewTokens: 50 }, {
      signal: controller.signal,
      onToken: (n) => {
        computed = n;
        // Like a cancel message from the host: it can only land if the loop yields between tokens.
        if (n === 2) setTimeout(() => controller.abort(), 0);
      },
    });
    await assert.rejects(run, CancelledError);
    assert.ok(computed >= 2 && computed < 10, `computed ${computed} of 50 tokens before stopping`);
  });

  it('uses the text after the cursor for a fill-in-the-middle model and stops at its sentinels', async () => {
    // Toy ids 40–42 stand in for the sentinels; the model says 41 (<|fim_middle|>) at once.
    const fim = { prefix: 40, middle: 41, suffix: 42 };
    const r = await completeText(model(41), tok, { prefix: 'ab', suffix: 'cd', mode: 'line', maxLines: 1, maxNewTokens: 4 }, { fim });
    assert.deepEqual(r, { text: '', tokens: 0, promptTokens: 7, stop: 'eot', fim: true });
  });

  it('leaves no tensors behind', async () => {
    const m = model(0);
    const before = tf.memory().numTensors;
    await completeText(m, tok, { prefix: 'abc', mode: 'line', maxLines: 1, maxNewTokens: 6 });
    assert.equal(tf.memory().numTensors, before);
  });
});
