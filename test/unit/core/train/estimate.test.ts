import * as assert from 'node:assert/strict';
import { countParameters, PRESETS } from '../../../../src/core/model/config';
import { estimateRun } from '../../../../src/core/train/estimate';
import { resolvePretrainOptions } from '../../../../src/core/train/options';
import { LlmLabError } from '../../../../src/core/errors';

describe('run estimate and options', () => {
  it('counts the windows and epochs of the-verdict.txt with the default recipe', () => {
    const e = estimateRun(5145);
    assert.equal(e.config.contextLength, 64);
    assert.equal(e.trainTokens + e.valTokens, 5145);
    assert.equal(e.valTokens, 515);
    assert.equal(e.trainWindows, 72); // ⌊(4630 − 65) / 64⌋ + 1, stride = context
    assert.equal(e.valWindows, 8);
    assert.equal(e.stepsPerEpoch, 9);
    assert.ok(Math.abs(e.epochs - 800 / 9) < 1e-9);
    assert.equal(e.tokensPerStep, 512);
    assert.equal(e.parameters, countParameters(PRESETS.tiny));
  });

  it('halves the per-micro-batch activation memory with 2 accumulation steps', () => {
    const a = estimateRun(10_000, { batchSize: 8 });
    const b = estimateRun(10_000, { batchSize: 8, gradAccumSteps: 2 });
    assert.ok(b.memory.activationsBytes < a.memory.activationsBytes);
    assert.equal(b.memory.weightsBytes, a.memory.weightsBytes);
  });

  it('fills in the documented defaults', () => {
    const o = resolvePretrainOptions({ outDir: 'x' });
    assert.equal(o.batchSize, 8);
    assert.equal(o.lr, 3e-3);
    assert.ok(Math.abs(o.minLr - 3e-4) < 1e-15);
    assert.equal(o.warmupSteps, 50);
    assert.equal(o.weightDecay, 0.1);
    assert.equal(o.gradClip, 1);
    assert.equal(o.stride, 64);
    assert.equal(o.valFraction, 0.1);
  });

  it('shortens the default warmup to a tenth of a short run, so its learning rate still decays', () => {
    assert.equal(resolvePretrainOptions({ outDir: 'x', steps: 50 }).warmupSteps, 5);
    assert.equal(resolvePretrainOptions({ outDir: 'x', steps: 800 }).warmupSteps, 50);
    assert.equal(resolvePretrainOptions({ outDir: 'x', steps: 50, warmupSteps: 20 }).warmupSteps, 20);
  });

  it('names the wrong option and what it must be', () => {
    const bad = (extra: object, re: RegExp): void =>
      assert.throws(() => resolvePretrainOptions({ outDir: 'x', ...extra }), (e: unknown) => e instanceof LlmLabError && re.test(e.message));
    bad({ lr: -1 }, /lr must be a positive number/);
    bad({ steps: 1.5 }, /steps must be a whole number/);
    bad({ minLr: 1 }, /minLr must be between 0 and lr/);
    bad({ preset: 'huge' }, /Unknown model preset 'huge'/);
    bad({ valFraction: 1 }, /valFraction must be in \[0, 1\)/);
  });
});
