// The fine-tuning loop's shared options: a task's recipe fills what the caller left out, and one check gives every
// training run (pretraining, classification, instructions) the same message for the same wrong value.
import * as assert from 'node:assert/strict';
import { CLASSIFY_DEFAULTS, resolveClassifyOptions } from '../../../../src/core/classify/options';
import { LlmLabError } from '../../../../src/core/errors';
import { INSTRUCT_DEFAULTS, resolveInstructOptions } from '../../../../src/core/instruct/options';
import { makeConfig } from '../../../../src/core/model/config';
import type { FinetuneLoopDefaults } from '../../../../src/core/train/loopOptions';
import { resolveFinetuneLoop } from '../../../../src/core/train/loopOptions';
import { resolvePretrainOptions } from '../../../../src/core/train/options';

const RECIPE: FinetuneLoopDefaults = {
  epochs: 3, batchSize: 4, gradAccumSteps: 2, lr: 2e-4, warmupSteps: 7, weightDecay: 0.05, beta1: 0.8, beta2: 0.99, eps: 1e-6, gradClip: 0.5,
  valFraction: 0.15, testFraction: 0.25, evalEvery: 9, evalBatches: 3, checkpointEvery: 11, keepCheckpoints: 4, seed: 42,
};

function message(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof LlmLabError, String(e));
    assert.equal(e.code, 'bad-argument');
    return e.message;
  }
  assert.fail('expected an error');
}

describe('fine-tuning loop options', () => {
  it('takes every default from the recipe it is given, the constant rate from lr, and leaves steps to the data', () => {
    const r = resolveFinetuneLoop({}, RECIPE);
    assert.deepEqual(r, { ...RECIPE, steps: 0, minLr: 2e-4 });
    const given = resolveFinetuneLoop({ lr: 1e-3, epochs: 1, seed: 0, valFraction: 0 }, RECIPE);
    assert.equal(given.minLr, 1e-3);
    assert.equal(given.epochs, 1);
    assert.equal(given.seed, 0);
    assert.equal(given.valFraction, 0);
    assert.equal(resolveFinetuneLoop({ lr: 1e-3, minLr: 1e-4 }, RECIPE).minLr, 1e-4);
  });

  it('gives each task its own book recipe', () => {
    const c = resolveClassifyOptions({ preset: 'tiny', dataFile: 'x.tsv' }, makeConfig('tiny'), 'x.tsv');
    assert.deepEqual([c.epochs, c.valFraction, c.testFraction, c.evalEvery, c.evalBatches, c.checkpointEvery], [5, 0.1, 0.2, 50, 0, 100]);
    const i = resolveInstructOptions({ preset: 'tiny' }, undefined);
    assert.deepEqual([i.epochs, i.valFraction, i.testFraction, i.evalEvery, i.evalBatches, i.checkpointEvery], [2, 0.05, 0.1, 5, 5, 50]);
    for (const r of [c, i]) {
      assert.deepEqual([r.batchSize, r.lr, r.minLr, r.warmupSteps, r.weightDecay, r.gradClip, r.keepCheckpoints, r.seed], [8, 5e-5, 5e-5, 0, 0.1, 0, 2, 123]);
    }
    assert.equal(CLASSIFY_DEFAULTS.trainable, 'last-block');
    assert.equal(INSTRUCT_DEFAULTS.promptStyle, 'alpaca');
  });

  it('refuses a wrong loop value with the message pretraining gives for it', () => {
    const cases: [object, RegExp][] = [
      [{ batchSize: 0 }, /^Training option batchSize must be a whole number ≥ 1, got 0\.$/],
      [{ batchSize: 6, gradAccumSteps: 4 }, /^Training option gradAccumSteps must be a whole number that divides batchSize \(6\), got 4\.$/],
      [{ lr: 1e-3, minLr: 2e-3 }, /^Training option minLr must be between 0 and lr \(0\.001\), got 0\.002\.$/],
      [{ warmupSteps: 1.5 }, /^Training option warmupSteps must be a whole number ≥ 0, got 1\.5\.$/],
      [{ weightDecay: 1 }, /^Training option weightDecay must be in \[0, 1\), got 1\.$/],
      [{ beta2: -0.1 }, /^Training option beta2 must be in \[0, 1\), got -0\.1\.$/],
      [{ eps: 0 }, /^Training option eps must be positive, got 0\.$/],
      [{ gradClip: -1 }, /^Training option gradClip must be ≥ 0 \(0 turns clipping off\), got -1\.$/],
      [{ evalEvery: -1 }, /^Training option evalEvery must be a whole number ≥ 0, got -1\.$/],
      [{ keepCheckpoints: 0.5 }, /^Training option keepCheckpoints must be a whole number ≥ 0, got 0\.5\.$/],
      [{ seed: Number.NaN }, /^Training option seed must be a whole number ≥ 0, got NaN\.$/],
    ];
    for (const [bad, re] of cases) {
      const finetune = message(() => resolveFinetuneLoop(bad, RECIPE));
      assert.match(finetune, re);
      assert.equal(message(() => resolvePretrainOptions({ outDir: 'x', ...bad })), finetune);
    }
  });

  it('shows the recipe’s learning rate as the example of a good one', () => {
    assert.equal(message(() => resolveFinetuneLoop({ lr: 0 }, RECIPE)), 'Training option lr must be a positive number such as 2e-4, got 0.');
    assert.match(message(() => resolvePretrainOptions({ outDir: 'x', lr: 20 })), /such as 3e-3, got 20\.$/);
    assert.match(message(() => resolveInstructOptions({ preset: 'tiny', lr: -1 }, undefined)), /such as 5e-5, got -1\.$/);
  });

  it('refuses splits that leave nothing to train on, and fine-tuning values of its own', () => {
    const sum = 'Training options valFraction (0.5) and testFraction (0.5) leave nothing to train on; keep their sum below 1.';
    assert.equal(message(() => resolveFinetuneLoop({ valFraction: 0.5, testFraction: 0.5 }, RECIPE)), sum);
    assert.equal(message(() => resolveClassifyOptions({ preset: 'tiny', dataFile: 'x.tsv', valFraction: 0.5, testFraction: 0.5 }, makeConfig('tiny'), 'x.tsv')), sum);
    assert.equal(message(() => resolveInstructOptions({ preset: 'tiny', valFraction: 0.5, testFraction: 0.5 }, undefined)), sum);
    assert.equal(message(() => resolveFinetuneLoop({ epochs: 0 }, RECIPE)), 'Training option epochs must be a whole number ≥ 1, got 0.');
    assert.equal(message(() => resolveFinetuneLoop({ testFraction: 1 }, RECIPE)), 'Training option testFraction must be in [0, 1), got 1.');
    assert.equal(message(() => resolveFinetuneLoop({ evalBatches: -2 }, RECIPE)), 'Training option evalBatches must be a whole number ≥ 0, got -2.');
  });
});
