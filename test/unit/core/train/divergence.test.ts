// The divergence watch on the loss's trend, on hand-made loss sequences: the exploding run the audit found
// (10.8 then thousands) is caught at its third step; single bad batches, a slow plateau and the noisy small
// losses of a fine-tuned classifier are not.
import * as assert from 'node:assert/strict';
import { LossTrend } from '../../../../src/core/train/divergence';

/** The step (1-based) at which the watch fires on `losses`, or 0 when it never does. */
function firesAt(losses: number[]): number {
  const t = new LossTrend();
  for (let i = 0; i < losses.length; i++) if (t.add(losses[i])) return i + 1;
  return 0;
}

describe('divergence by the loss trend', () => {
  it('fires on an exploding but finite loss, reporting the median and the lowest loss', () => {
    // The first steps of `--lr 9.9 --grad-clip 0 --warmup 0` on the tiny preset.
    const t = new LossTrend();
    assert.equal(t.add(10.81), undefined);
    assert.equal(t.add(3631.12), undefined); // one step proves nothing
    assert.deepEqual(t.add(1969.77), { recent: 1969.77, lowest: 10.81 });
  });

  it('fires on a loss that climbs steadily to twice its lowest value', () => {
    assert.equal(firesAt([6, 5, 5.5, 7, 8.5, 10.1, 10.4, 11]), 7); // median of 10.1, 10.4, 11 > 2 × 5 and > 5 + 2
  });

  it('ignores single spikes, even huge ones', () => {
    assert.equal(firesAt([5, 5.1, 40, 5, 4.9, 60, 4.8, 4.7, 100, 4.6]), 0);
  });

  it('needs both margins: doubling a small loss is noise, rising 2 nats from a large one is not doubling', () => {
    // A classifier's batch losses: 0.02 to 0.9 (45 times the lowest) but never 2 nats above it.
    assert.equal(firesAt([0.69, 0.4, 0.2, 0.05, 0.02, 0.9, 0.7, 0.8, 0.1, 0.03]), 0);
    // Pretraining's plateau: 10.8 then up to 13 (+2.2 nats) is not twice the lowest.
    assert.equal(firesAt([10.8, 11.5, 12.4, 13, 12.8, 12.9]), 0);
    // The classifier blown up: losses of 3 nats on a two-class task.
    assert.equal(firesAt([0.69, 0.3, 0.1, 3.1, 3.5, 4]), 5);
  });

  it('leaves NaN and infinite losses to the loop, and its median is the middle of the last three', () => {
    const t = new LossTrend();
    assert.ok(Number.isNaN(t.median()));
    for (const x of [4, NaN, 5, Infinity, 3]) assert.equal(t.add(x), undefined);
    assert.equal(t.median(), 4);
  });
});
