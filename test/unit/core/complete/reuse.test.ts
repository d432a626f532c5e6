// Completions asked again as the user types, with the model's decode session kept between requests (as the
// worker keeps it): each request computes only the positions after the prefix it shares with the last one,
// and answers exactly what a request with a fresh session answers, also after an edit before the cursor.
import * as assert from 'node:assert/strict';
import { completeText } from '../../../../src/core/complete';
import type { CompletionResult } from '../../../../src/core/complete';
import { tf } from '../../../../src/core/engine';
import { makeConfig } from '../../../../src/core/model/config';
import { DecodeSession } from '../../../../src/core/model/decodeSession';
import { GptModel } from '../../../../src/core/model/gpt';
import { requireNative } from '../engine/native/helpers';
import { ToyTokenizer } from '../generate/helpers';

const tok = new ToyTokenizer();

describe('completions that reuse the last request', function () {
  this.timeout(120_000);
  let model: GptModel;
  let previous: string | undefined;

  before(async function () {
    previous = tf.getBackend();
    await requireNative(this);
    await tf.setBackend('native'); // the engine's choice is left as it is: other suites rely on it
    model = GptModel.create(makeConfig('tiny', { vocabSize: tok.vocabSize, contextLength: 48, embDim: 32, nHeads: 2, nLayers: 2 }), 9);
  });
  after(async () => {
    model?.dispose();
    if (previous) await tf.setBackend(previous);
  });

  /** A request's result and the first position its session had to compute (the prompt's length minus the reused prefix). */
  async function ask(session: DecodeSession, prefix: string): Promise<{ r: CompletionResult; firstPass: number }> {
    const computed: number[] = [];
    const logits = session.logits.bind(session);
    session.logits = async (ids) => {
      const out = await logits(ids);
      computed.push(session.lastComputed);
      return out;
    };
    try {
      const r = await completeText(model, tok, { prefix, mode: 'block', maxLines: 100, maxNewTokens: 6, temperature: 0 }, { session });
      return { r, firstPass: computed[0] };
    } finally {
      session.logits = logits;
    }
  }

  it('typing on, deleting and editing earlier text each answer as a fresh request does', async () => {
    const session = new DecodeSession(model);
    const texts = [
      'hello world, and so',
      'hello world, and so o',
      'hello world, and so on',
      'hello world, and so o',
      'hallo world, and so o',
    ];
    // The reused prefix: the last request's prompt and its 5 generated tokens (the 6th is never run), then
    // its common part with the new prompt (one token per character here).
    let last: number[] = [];
    for (const [i, text] of texts.entries()) {
      const { r, firstPass } = await ask(session, text);
      const fresh = await ask(new DecodeSession(model), text);
      assert.deepEqual(r, fresh.r, `request ${i}`);
      const ids = tok.encode(text);
      let shared = 0;
      while (shared < Math.min(last.length, ids.length - 1) && last[shared] === ids[shared]) shared++;
      assert.equal(firstPass, ids.length - shared, `request ${i}: positions computed`);
      assert.equal(fresh.firstPass, ids.length);
      last = [...ids, ...tok.encode(r.text)].slice(0, ids.length + r.tokens - 1);
    }
  });
});
