import * as assert from 'node:assert/strict';
import { countParameters, estimateMemory, makeConfig, PRESETS } from '../../../../src/core/model/config';
import { LlmLabError } from '../../../../src/core/errors';

describe('model config', () => {
  it('counts the published GPT-2 sizes', () => {
    // Hugging Face reports these totals for the four GPT-2 checkpoints (tied head counted once).
    assert.equal(countParameters(PRESETS.gpt2), 124_439_808);
    assert.equal(countParameters(PRESETS['gpt2-medium']), 354_823_168);
    assert.equal(countParameters(PRESETS['gpt2-large']), 774_030_080);
    assert.equal(countParameters(PRESETS['gpt2-xl']), 1_557_611_200);
  });

  it('counts an untied head and a missing qkv bias', () => {
    const tied = makeConfig('tiny');
    const untied = makeConfig('tiny', { tiedHead: false, qkvBias: false });
    const C = tied.embDim;
    assert.equal(countParameters(untied) - countParameters(tied), tied.vocabSize * C - tied.nLayers * 3 * C);
  });

  it('rejects a width that does not divide by the heads', () => {
    assert.throws(() => makeConfig('tiny', { nHeads: 3 }), (e: unknown) => e instanceof LlmLabError && /divide/.test(e.message));
    assert.throws(() => makeConfig('tiny', { nLayers: 0 }), /nLayers/);
  });

  it('estimates training memory above inference memory, growing with the batch', () => {
    const m1 = estimateMemory(PRESETS.small, 1);
    const m4 = estimateMemory(PRESETS.small, 4);
    assert.ok(m1.trainingBytes > m1.inferenceBytes);
    assert.ok(m4.activationsBytes > 3 * m1.activationsBytes);
    assert.equal(m1.optimizerBytes, 2 * m1.weightsBytes);
  });
});
