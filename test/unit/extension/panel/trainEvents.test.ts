// Mapping core training events to the panel's: run tag, tokens seen for eval points, unplottable
// points dropped.
import * as assert from 'node:assert/strict';
import { TrainEventMapper } from '../../../../src/extension/panel/trainEvents';

describe('TrainEventMapper', () => {
  it('tags steps with the run and gives an eval the tokens seen at the last step', () => {
    const m = new TrainEventMapper('run-7');
    assert.deepEqual(m.map({ type: 'step', step: 4, totalSteps: 10, loss: 3.5, lr: 1e-4, tokensSeen: 1024, tokensPerSec: 512, gradNorm: 0.7, elapsedMs: 900 }), {
      type: 'step', runId: 'run-7', step: 4, totalSteps: 10, loss: 3.5, lr: 1e-4, tokensSeen: 1024, tokensPerSec: 512,
    });
    assert.deepEqual(m.map({ type: 'eval', step: 4, valLoss: 3.9, bestValLoss: 3.9 }), { type: 'eval', runId: 'run-7', step: 4, valLoss: 3.9, tokensSeen: 1024 });
  });

  it('drops NaN or infinite losses and events the panel does not plot', () => {
    const m = new TrainEventMapper('r');
    assert.equal(m.map({ type: 'step', step: 1, totalSteps: 2, loss: NaN, lr: 1e-3, tokensSeen: 10, tokensPerSec: 1, gradNorm: NaN, elapsedMs: 5 }), undefined);
    assert.equal(m.map({ type: 'eval', step: 1, valLoss: Infinity, bestValLoss: Infinity }), undefined);
    assert.equal(m.map({ type: 'sample', step: 1, prompt: 'Every', text: 'Every effort' }), undefined);
    // The dropped step still moved tokens seen forward.
    const e = m.map({ type: 'eval', step: 1, valLoss: 2, bestValLoss: 2 });
    assert.ok(e?.type === 'eval');
    assert.equal(e.tokensSeen, 10);
  });

  it('passes a task’s finite eval measures and its test result with the confusion matrix', () => {
    const m = new TrainEventMapper('cls');
    m.map({ type: 'step', step: 5, totalSteps: 10, loss: 0.6, lr: 5e-5, tokensSeen: 800, tokensPerSec: 100, gradNorm: 1, elapsedMs: 10 });
    assert.deepEqual(m.map({ type: 'eval', step: 5, valLoss: 0.5, bestValLoss: 0.5, metrics: { valAccuracy: 0.75, trainAccuracy: 0.8, trainLoss: NaN } }), {
      type: 'eval', runId: 'cls', step: 5, valLoss: 0.5, tokensSeen: 800, metrics: { valAccuracy: 0.75, trainAccuracy: 0.8 },
    });
    // Only non-finite measures: none are passed.
    assert.deepEqual(m.map({ type: 'eval', step: 6, valLoss: 0.5, bestValLoss: 0.5, metrics: { trainLoss: Infinity } }), { type: 'eval', runId: 'cls', step: 6, valLoss: 0.5, tokensSeen: 800 });
    const confusion = { labels: ['a', 'b'], counts: [[2, 0], [1, 1]] };
    assert.deepEqual(m.map({ type: 'test', step: 10, metrics: { testAccuracy: 0.75, testLoss: NaN }, confusion }), {
      type: 'test', runId: 'cls', step: 10, metrics: { testAccuracy: 0.75 }, confusion,
    });
  });
});
