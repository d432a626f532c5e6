import * as assert from 'node:assert/strict';
import { GPT2_MODEL_NAMES, GPT2_MODELS } from '../../../../src/core/hub';
import { countParameters, makeConfig } from '../../../../src/core/model/config';

describe('GPT-2 models on the hub', () => {
  it('name the parameter counts published for OpenAI’s GPT-2 (124M, 355M, 774M, 1558M), which our presets of the same names have', () => {
    // The four counts as transformers reports them for openai-community/gpt2{,-medium,-large,-xl}.
    assert.deepEqual(
      GPT2_MODEL_NAMES.map((n) => GPT2_MODELS[n].parameters),
      [124_439_808, 354_823_168, 774_030_080, 1_557_611_200],
    );
    for (const n of GPT2_MODEL_NAMES) assert.equal(countParameters(makeConfig(n)), GPT2_MODELS[n].parameters, n);
  });
});
