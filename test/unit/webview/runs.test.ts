// The panel's run store (plain TypeScript, no DOM): idempotent adds, a resumed run replacing the steps
// after its checkpoint, thinning for the saved state, and a restore that skips malformed runs.
import * as assert from 'node:assert/strict';
import { Runs } from '../../../webview/runs';

const step = (runId: string, n: number, loss = 10 - n / 10) => ({ runId, step: n, totalSteps: 100, loss, lr: 1e-3, tokensSeen: n * 64, tokensPerSec: 500 });

describe('panel Runs', () => {
  it('merges a replay into what is held: fills gaps in order, never replaces, bumps the version only on a change', () => {
    const runs = new Runs();
    runs.addStep(step('a', 1));
    runs.addStep(step('a', 3));
    runs.addEval({ runId: 'a', step: 3, valLoss: 9.9, tokensSeen: 192 });
    runs.mergeStep(step('a', 2));
    const v = runs.version;
    runs.mergeStep(step('a', 3, 99));
    runs.mergeEval({ runId: 'a', step: 3, valLoss: 1, tokensSeen: 192 });
    assert.equal(runs.version, v);
    runs.mergeEval({ runId: 'a', step: 1, valLoss: 9.95, tokensSeen: 64 });
    const [a] = runs.list;
    assert.deepEqual(a.step, [1, 2, 3]);
    assert.deepEqual(a.loss, [9.9, 9.8, 9.7]);
    assert.deepEqual(a.tokens, [64, 128, 192]);
    assert.deepEqual(a.evalStep, [1, 3]);
    assert.deepEqual(a.valLoss, [9.95, 9.9]);
  });

  it('drops the steps and evals after the point a resumed run restarts from', () => {
    const runs = new Runs();
    for (let n = 1; n <= 5; n++) runs.addStep(step('a', n));
    runs.addEval({ runId: 'a', step: 2, valLoss: 9, tokensSeen: 128 });
    runs.addEval({ runId: 'a', step: 4, valLoss: 8, tokensSeen: 256 });
    runs.addStep(step('a', 3, 1.5)); // resumed from the step-2 checkpoint
    const [a] = runs.list;
    assert.deepEqual(a.step, [1, 2, 3]);
    assert.equal(a.loss[2], 1.5);
    assert.deepEqual(a.evalStep, [2]);
    assert.equal(a.tokens.length, 3);
  });

  it('keeps runs apart', () => {
    const runs = new Runs();
    runs.addStep(step('a', 1));
    runs.addStep(step('b', 1));
    runs.addStep(step('b', 2));
    assert.deepEqual(runs.list.map((r) => [r.id, r.step.length]), [['a', 1], ['b', 2]]);
  });

  it('thins a long run for saving but keeps its first and last step', () => {
    const runs = new Runs();
    for (let n = 1; n <= 1001; n++) runs.addStep(step('a', n));
    const [saved] = runs.save(100);
    assert.ok(saved.step.length <= 102 && saved.step.length >= 90, `kept ${saved.step.length}`);
    assert.equal(saved.step[0], 1);
    assert.equal(saved.step.at(-1), 1001);
    assert.equal(saved.loss.length, saved.step.length);
    assert.equal(runs.list[0].step.length, 1001, 'the live run is not thinned');
  });

  it('restores saved runs and skips malformed ones', () => {
    const runs = new Runs();
    for (let n = 1; n <= 3; n++) runs.addStep(step('a', n));
    const saved = JSON.parse(JSON.stringify(runs.save()));
    const bad = { ...saved[0], id: 'bad', loss: [1] };
    const restored = new Runs();
    restored.restore([...saved, bad, null, 'x', { id: 7 }]);
    assert.deepEqual(restored.list.map((r) => r.id), ['a']);
    assert.deepEqual(restored.list[0].step, [1, 2, 3]);
    restored.restore('not a list');
    assert.equal(restored.list.length, 1);
  });
});
