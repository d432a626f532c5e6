// The protocol's runtime checks: good messages pass typed, bad ones fail naming the wrong field.
import * as assert from 'node:assert/strict';
import { trainEvent } from '../../../src/protocol/training';
import { hostToWorker, workerRequests, workerToHost } from '../../../src/protocol/worker';
import { arr, int, num, obj, opt, ProtocolError, str } from '../../../src/protocol/validate';

describe('protocol validation', () => {
  it('accepts a well-formed request and keeps only declared fields', () => {
    const m = hostToWorker({ kind: 'request', id: 3, method: 'tokenize', params: { text: 'hi' }, extra: 1 });
    assert.deepEqual(m, { kind: 'request', id: 3, method: 'tokenize', params: { text: 'hi' } });
  });

  it('names the field that is wrong', () => {
    assert.throws(() => hostToWorker({ kind: 'request', id: 0, method: 'tokenize', params: {} }, 'msg'), (e: unknown) => {
      assert.ok(e instanceof ProtocolError);
      assert.equal(e.path, 'msg.id');
      return true;
    });
    assert.throws(() => hostToWorker({ kind: 'request', id: 1, method: 'rm -rf', params: {} }), /\$\.method: expected one of/);
    assert.throws(() => hostToWorker({ kind: 'launch', id: 1 }), /\$\.kind: unknown kind/);
    assert.throws(() => workerRequests.tokenize.params({ text: 'a', encoding: 'gpt5', maxSpans: 1 }, 'p'), /p\.encoding: expected one of "gpt2"/);
    assert.throws(() => workerRequests.tokenize.params({ text: 'a', encoding: 'gpt2', maxSpans: 1.5 }, 'p'), /p\.maxSpans: expected a whole number/);
  });

  it('checks nested arrays and optional fields', () => {
    const check = obj({ names: arr(str, { max: 2 }), n: opt(int({ min: 1 })) });
    assert.deepEqual(check({ names: ['a'] }), { names: ['a'] });
    assert.throws(() => check({ names: ['a', 'b', 'c'] }), /at most 2 items/);
    assert.throws(() => check({ names: ['a', 3] }), /\$\.names\[1\]: expected a string/);
    assert.throws(() => check({ names: [], n: 0 }), /\$\.n: expected at least 1/);
  });

  it('refuses NaN unless a field allows it (a diverged loss is reported, not dropped)', () => {
    assert.throws(() => num()(NaN), /finite/);
    assert.throws(() => num()(Infinity), /finite/);
    const e = trainEvent({ type: 'step', step: 1, totalSteps: 2, loss: NaN, lr: 1e-4, gradNorm: NaN, tokensSeen: 10, tokensPerSec: 5, elapsedMs: 3 });
    assert.equal(e.type, 'step');
    assert.ok(e.type === 'step' && Number.isNaN(e.loss));
    assert.throws(() => trainEvent({ type: 'step', step: 1, totalSteps: 2, loss: 1, lr: NaN, gradNorm: 1, tokensSeen: 10, tokensPerSec: 5, elapsedMs: 3 }), /lr/);
  });

  it('carries a task\'s metrics: named numbers on eval, the test split and its confusion matrix at the end', () => {
    const ev = trainEvent({ type: 'eval', step: 4, valLoss: 0.5, bestValLoss: 0.5, metrics: { valAccuracy: 0.75, trainLoss: 0.4 } });
    assert.deepEqual(ev, { type: 'eval', step: 4, valLoss: 0.5, bestValLoss: 0.5, metrics: { valAccuracy: 0.75, trainLoss: 0.4 } });
    assert.throws(() => trainEvent({ type: 'eval', step: 4, valLoss: 0.5, bestValLoss: 0.5, metrics: { valAccuracy: 'high' } }), /\$\.metrics\.valAccuracy: expected a number/);
    const t = trainEvent({ type: 'test', step: 9, metrics: { accuracy: 1 }, confusion: { labels: ['ham', 'spam'], counts: [[3, 0], [1, 2]] } });
    assert.ok(t.type === 'test' && t.confusion?.counts[1][0] === 1);
    assert.throws(() => trainEvent({ type: 'test', step: 9, metrics: {}, confusion: { labels: ['a'], counts: [[-1]] } }), /counts\[0\]\[0\]/);
  });

  it('types attention maps as Float32Array and refuses plain arrays there', () => {
    const ok = workerRequests.attention.result({ tokens: ['a'], layers: [[new Float32Array([1])]] });
    assert.ok(ok.layers[0][0] instanceof Float32Array);
    assert.throws(() => workerRequests.attention.result({ tokens: ['a'], layers: [[[1]]] }), /expected a Float32Array/);
  });

  it('accepts responses with and without an error', () => {
    assert.deepEqual(workerToHost({ kind: 'response', id: 2, result: { x: 1 } }), { kind: 'response', id: 2, result: { x: 1 } });
    const r = workerToHost({ kind: 'response', id: 2, error: { code: 'busy', message: 'm' } });
    assert.equal(r.kind === 'response' && r.error?.code, 'busy');
    assert.throws(() => workerToHost({ kind: 'notify', id: 2, method: 'train/didExplode', params: {} }), /method/);
  });
});
