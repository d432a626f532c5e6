import * as assert from 'node:assert/strict';
import { LlmLabError } from '../../../../src/core/errors';
import { BatchSampler, sequentialBatches, TokenWindows } from '../../../../src/core/data';

// A stream 0, 1, 2, ... so that every window is recognisable by its first id.
const stream = Int32Array.from({ length: 101 }, (_, i) => i);
const windows = new TokenWindows(stream, 5, 5); // 20 windows starting at 0, 5, ..., 95

function firstIds(inputs: Int32Array, T: number): number[] {
  return Array.from({ length: inputs.length / T }, (_, b) => inputs[b * T]);
}

describe('batch sampler', () => {
  it('lays batches out row-major (B, T) with targets one token ahead', () => {
    const s = new BatchSampler(windows, 4, 1);
    const batch = s.next();
    assert.equal(batch.batchSize, 4);
    assert.equal(batch.seqLen, 5);
    assert.equal(batch.inputs.length, 20);
    for (let b = 0; b < 4; b++) {
      const row = Array.from(batch.inputs.subarray(b * 5, b * 5 + 5));
      assert.equal(row[0] % 5, 0);
      assert.deepEqual(row, [0, 1, 2, 3, 4].map((k) => row[0] + k));
      assert.deepEqual(Array.from(batch.targets.subarray(b * 5, b * 5 + 5)), row.map((x) => x + 1));
    }
  });

  it('serves every window once per epoch, in a new seeded order each epoch', () => {
    const s = new BatchSampler(windows, 4, 7);
    assert.equal(s.batchesPerEpoch, 5);
    const epochs: number[][] = [];
    for (let e = 0; e < 3; e++) {
      const order: number[] = [];
      for (let k = 0; k < 5; k++) order.push(...firstIds(s.next().inputs, 5));
      assert.equal(s.epoch, e);
      assert.deepEqual([...order].sort((a, b) => a - b), Array.from({ length: 20 }, (_, i) => 5 * i));
      epochs.push(order);
    }
    assert.notDeepEqual(epochs[0], epochs[1]);
    s.next();
    assert.equal(s.epoch, 3);
  });

  it('gives the same batches for the same seed and different ones for another seed', () => {
    const run = (seed: number): number[] => {
      const s = new BatchSampler(windows, 3, seed);
      return Array.from({ length: 10 }, () => firstIds(s.next().inputs, 5)).flat();
    };
    assert.deepEqual(run(42), run(42));
    assert.notDeepEqual(run(42), run(43));
  });

  it('resumes from a saved state with exactly the batches it would have served, across epochs', () => {
    for (const stop of [0, 1, 4, 5, 6, 13]) {
      const a = new BatchSampler(windows, 4, 99);
      for (let k = 0; k < stop; k++) a.next();
      const saved = JSON.parse(JSON.stringify(a.getState()));
      const expected = Array.from({ length: 12 }, () => a.next());
      const b = new BatchSampler(windows, 4, 12345); // a different seed: the state decides
      b.setState(saved);
      for (const e of expected) {
        const got = b.next();
        assert.deepEqual(got.inputs, e.inputs, `resumed after ${stop} batches`);
        assert.deepEqual(got.targets, e.targets);
      }
      assert.equal(b.epoch, a.epoch);
    }
  });

  it('skips the leftover windows of an epoch (drop_last) and serves in order without shuffling', () => {
    const s = new BatchSampler(windows, 6, 0, { shuffle: false }); // 20 windows: 3 batches of 6, 2 left over
    assert.deepEqual(firstIds(s.next().inputs, 5), [0, 5, 10, 15, 20, 25]);
    s.next();
    assert.deepEqual(firstIds(s.next().inputs, 5), [60, 65, 70, 75, 80, 85]);
    assert.deepEqual(firstIds(s.next().inputs, 5), [0, 5, 10, 15, 20, 25]);
    assert.equal(s.epoch, 1);
  });

  it('explains what to change when the text is too short for one batch', () => {
    const few = new TokenWindows(Int32Array.from({ length: 12 }), 5, 5); // 2 windows
    assert.throws(
      () => new BatchSampler(few, 4, 0),
      (e: unknown) => e instanceof LlmLabError && e.code === 'bad-data' && /only 2 window/.test(e.message) && /batch size/.test(e.message),
    );
    assert.throws(() => new BatchSampler(windows, 0, 0), LlmLabError);
  });

  it('refuses a saved state made for other data or settings', () => {
    const state = new BatchSampler(windows, 4, 1).getState();
    assert.throws(() => new BatchSampler(windows, 5, 1).setState(state), (e: unknown) => e instanceof LlmLabError && e.code === 'bad-checkpoint');
    const other = new TokenWindows(stream, 5, 1);
    assert.throws(() => new BatchSampler(other, 4, 1).setState(state), LlmLabError);
    assert.throws(() => new BatchSampler(windows, 4, 1).setState({ ...state, position: -1 }), LlmLabError);
  });
});

describe('sequential batches', () => {
  it('serves every window once, in order, with a smaller last batch', () => {
    const batches = [...sequentialBatches(windows, 6)];
    assert.deepEqual(batches.map((b) => b.batchSize), [6, 6, 6, 2]);
    assert.deepEqual(batches.flatMap((b) => firstIds(b.inputs, 5)), Array.from({ length: 20 }, (_, i) => 5 * i));
    assert.deepEqual(Array.from(batches[3].targets.subarray(0, 5)), [91, 92, 93, 94, 95]);
  });
});
