// The worker's model jobs on a small saved model: info, streamed generation (notifications add up to the
// result, seeded runs repeat), evaluation (perplexity = exp(loss)), attention maps (causal rows summing to
// one), prompt cancellation, and no tensors left behind by repeated use.
import * as assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { saveModel } from '../../../src/core/checkpoint';
import { writeClassifierFiles } from '../../../src/core/classify/files';
import { Classifier } from '../../../src/core/classify/model';
import { initEngine, tf } from '../../../src/core/engine';
import { CancelledError, LlmLabError } from '../../../src/core/errors';
import { countParameters, makeConfig } from '../../../src/core/model/config';
import { GptModel } from '../../../src/core/model/gpt';
import { getTokenizer } from '../../../src/core/tokenizer';
import type { NotificationName, NotificationOf } from '../../../src/protocol/worker';
import { completeJob } from '../../../src/worker/completeJob';
import { askJob, attentionJob, evaluateJob, generateJob, modelInfoJob } from '../../../src/worker/modelJobs';
import type { JobContext } from '../../../src/worker/server';

function context(signal = new AbortController().signal): { ctx: JobContext; pieces: string[] } {
  const pieces: string[] = [];
  const ctx: JobContext = {
    signal,
    notify: <N extends NotificationName>(name: N, params: NotificationOf<N>) => {
      if (name === 'generate/didToken') pieces.push((params as NotificationOf<'generate/didToken'>).text);
    },
  };
  return { ctx, pieces };
}

describe('worker model jobs', function () {
  this.timeout(60_000);
  const config = makeConfig('tiny', { contextLength: 16 });
  let dir: string;

  before(async () => {
    process.env.LLM_LAB_BACKEND = 'cpu';
    await initEngine('cpu');
    dir = mkdtempSync(join(tmpdir(), 'llmlab-model-'));
    const model = GptModel.create(config, 7);
    await saveModel(join(dir, 'm'), model, { tokenizer: 'gpt2' });
    model.dispose();
  });
  after(() => {
    delete process.env.LLM_LAB_BACKEND;
    rmSync(dir, { recursive: true, force: true });
  });

  it('describes the saved model', async () => {
    const info = await modelInfoJob({ modelDir: join(dir, 'm') });
    assert.equal(info.parameters, countParameters(config));
    assert.equal(info.tokenizer, 'gpt2');
    assert.equal(info.config.contextLength, 16);
    assert.equal(info.name, 'm');
  });

  it('streams a generation whose pieces make up the result, the same for the same seed', async () => {
    const a = context();
    const r1 = await generateJob({ modelDir: join(dir, 'm'), prompt: 'Every effort moves', maxNewTokens: 5, temperature: 1, seed: 3 }, a.ctx);
    assert.equal(a.pieces.length, r1.tokens);
    assert.equal(a.pieces.join(''), r1.text);
    assert.ok(r1.tokens > 0 && r1.tokens <= 5);
    const b = context();
    const r2 = await generateJob({ modelDir: join(dir, 'm'), prompt: 'Every effort moves', maxNewTokens: 5, temperature: 1, seed: 3 }, b.ctx);
    assert.equal(r2.text, r1.text);
  });

  it('stops a generation promptly when cancelled', async () => {
    const controller = new AbortController();
    const { ctx, pieces } = context(controller.signal);
    const original = ctx.notify;
    ctx.notify = (name, params) => {
      original(name, params);
      if (pieces.length === 2) controller.abort();
    };
    await assert.rejects(
      generateJob({ modelDir: join(dir, 'm'), prompt: 'Hello', maxNewTokens: 50, temperature: 1, seed: 1 }, ctx),
      (e: unknown) => e instanceof CancelledError,
    );
    assert.equal(pieces.length, 2);
  });

  it('evaluates a text: perplexity is exp(loss) over its tokens', async () => {
    const text = 'I had always thought Jack Gisburn rather a cheap genius';
    const r = await evaluateJob({ modelDir: join(dir, 'm'), text }, context().ctx);
    assert.equal(r.tokens, getTokenizer('gpt2').encode(text).length);
    assert.ok(Math.abs(Math.log(r.perplexity) - r.loss) < 1e-6);
    // An untrained model is close to uniform over 50,257 tokens: loss near ln(50257) ≈ 10.8.
    assert.ok(r.loss > 9 && r.loss < 12, `loss ${r.loss}`);
  });

  it('returns causal attention maps for every layer and head', async () => {
    const r = await attentionJob({ modelDir: join(dir, 'm'), text: 'Hello, do you like tea?' });
    const T = r.tokens.length;
    assert.equal(T, 7);
    assert.equal(r.layers.length, config.nLayers);
    for (const heads of r.layers) {
      assert.equal(heads.length, config.nHeads);
      for (const m of heads) {
        assert.equal(m.length, T * T);
        for (let i = 0; i < T; i++) {
          const row = m.subarray(i * T, (i + 1) * T);
          assert.ok(Math.abs(row.reduce((s, x) => s + x, 0) - 1) < 1e-4, 'a row does not sum to one');
          assert.ok(row.subarray(i + 1).every((x) => x === 0), 'a token attends to the future');
        }
      }
    }
  });

  it('leaves no tensors behind once the model is loaded', async () => {
    await evaluateJob({ modelDir: join(dir, 'm'), text: 'warm up the cache' }, context().ctx);
    const before = tf.memory().numTensors;
    await generateJob({ modelDir: join(dir, 'm'), prompt: 'The', maxNewTokens: 3, temperature: 0 }, context().ctx);
    await evaluateJob({ modelDir: join(dir, 'm'), text: 'and once more' }, context().ctx);
    await attentionJob({ modelDir: join(dir, 'm'), text: 'and attention' });
    assert.equal(tf.memory().numTensors, before);
  });

  it('names a run folder by its latest step and loads that step, as core lays the run out', async () => {
    const run = join(dir, 'tiny-run');
    const model = GptModel.create(config, 8);
    await saveModel(join(run, 'checkpoints', 'step-000010'), model, { tokenizer: 'gpt2' });
    await saveModel(join(run, 'checkpoints', 'step-000002'), model, { tokenizer: 'gpt2' });
    model.dispose();
    const info = await modelInfoJob({ modelDir: run });
    assert.equal(info.name, 'tiny-run (step 10)');
    assert.equal(info.dir, join(run, 'checkpoints', 'step-000010'));
  });

  it('refuses a model whose config names a tokenizer LLM Lab does not have, as the CLI does', async () => {
    const model = GptModel.create(config, 9);
    await saveModel(join(dir, 'odd'), model, { tokenizer: 'klingon' });
    model.dispose();
    await assert.rejects(
      modelInfoJob({ modelDir: join(dir, 'odd') }),
      (e: unknown) => e instanceof LlmLabError && e.code === 'bad-checkpoint' && /tokenizer 'klingon'/.test(e.message),
    );
  });
  it('refuses a classifier where next tokens are needed, and still maps its attention', async () => {
    const classifier = join(dir, 'classifier');
    mkdirSync(classifier);
    const c = Classifier.withNewHead(GptModel.create(config, 11), ['ham', 'spam'], 11);
    await writeClassifierFiles(classifier, c, 50256, { trainable: 'head', trainableParameters: 130, maxLength: 16 }, { tokenizer: 'gpt2' });
    c.dispose();
    const refused = (e: unknown) =>
      e instanceof LlmLabError && e.code === 'bad-argument' && /is a classifier \(classes ham, spam\), not a language model.*Classify Selection/.test(e.message);
    const { ctx, pieces } = context();
    await assert.rejects(generateJob({ modelDir: classifier, prompt: 'Hello', maxNewTokens: 3, temperature: 0 }, ctx), refused);
    await assert.rejects(evaluateJob({ modelDir: classifier, text: 'Hello there' }, ctx), refused);
    await assert.rejects(askJob({ modelDir: classifier, instruction: 'Say hi.', input: '', maxNewTokens: 3, temperature: 0 }, ctx), refused);
    await assert.rejects(
      completeJob({ modelDir: classifier, prefix: 'def f(', prefixTruncated: false, suffix: '', suffixTruncated: false, mode: 'line', maxLines: 1, maxNewTokens: 3, temperature: 0 }, ctx),
      refused,
    );
    assert.deepEqual(pieces, []);
    // Attention maps read only the body, which a classifier has in full.
    const r = await attentionJob({ modelDir: classifier, text: 'Hello there' });
    assert.ok(r.layers.length > 0 && r.tokens.length > 0);
  });
});
