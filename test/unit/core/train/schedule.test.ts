import * as assert from 'node:assert/strict';
import { learningRateAt } from '../../../../src/core/train/schedule';

const close = (a: number, b: number): void => assert.ok(Math.abs(a - b) < 1e-12, `${a} ≠ ${b}`);

describe('learning-rate schedule', () => {
  const s = { lr: 1e-3, minLr: 1e-4, warmupSteps: 10, totalSteps: 110 };

  it('warms up linearly from lr/warmup to the peak', () => {
    close(learningRateAt(1, s), 1e-4);
    close(learningRateAt(5, s), 5e-4);
    close(learningRateAt(10, s), 1e-3);
  });

  it('decays along a cosine to minLr at the last step and stays there', () => {
    close(learningRateAt(60, s), (1e-3 + 1e-4) / 2); // halfway through the decay
    close(learningRateAt(35, s), 1e-4 + 0.9e-3 * 0.5 * (1 + Math.cos(Math.PI / 4)));
    close(learningRateAt(110, s), 1e-4);
    close(learningRateAt(500, s), 1e-4);
    assert.ok(learningRateAt(11, s) < 1e-3 && learningRateAt(11, s) > learningRateAt(12, s));
  });

  it('without warmup starts at (almost) the peak', () => {
    const t = { ...s, warmupSteps: 0, totalSteps: 100 };
    close(learningRateAt(0, t), 1e-3);
    assert.ok(learningRateAt(1, t) < 1e-3 && learningRateAt(1, t) > 0.999e-3);
  });
});
