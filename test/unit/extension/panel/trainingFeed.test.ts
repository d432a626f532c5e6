// The panel's training feed over a TrainingController-shaped source, and streamOf, which turns a
// notifying request into an async iterable.
import * as assert from 'node:assert/strict';
import type { PanelTrainingEvent } from '../../../../src/extension/panel/backend';
import { streamOf } from '../../../../src/extension/panel/streamOf';
import type { TrainingSource } from '../../../../src/extension/panel/trainingFeed';
import { panelTrainingFeed } from '../../../../src/extension/panel/trainingFeed';

function source() {
  const ev: Array<Parameters<Parameters<TrainingSource['onDidEvent']>[0]>[0]> = [];
  let onEvent: Parameters<TrainingSource['onDidEvent']>[0] = () => undefined;
  let onEnd: Parameters<TrainingSource['onDidEnd']>[0] = () => undefined;
  let disposed = 0;
  const s: TrainingSource = {
    onDidEvent: (l) => ((onEvent = l), { dispose: () => disposed++ }),
    onDidEnd: (l) => ((onEnd = l), { dispose: () => disposed++ }),
  };
  return { s, ev, emit: (...a: Parameters<typeof onEvent>) => onEvent(...a), end: (...a: Parameters<typeof onEnd>) => onEnd(...a), disposed: () => disposed };
}

const stepEvent = (n: number) => ({ type: 'step' as const, step: n, totalSteps: 9, loss: 2, lr: 1e-3, gradNorm: 1, tokensSeen: n * 10, tokensPerSec: 5, elapsedMs: n });

describe('panelTrainingFeed', () => {
  it('reports running when a run starts, its points, then how it ended', () => {
    const src = source();
    const got: PanelTrainingEvent[] = [];
    const sub = panelTrainingFeed(src.s)((e) => got.push(e));
    src.emit({ runName: 'r1', event: stepEvent(1) });
    src.emit({ runName: 'r1', event: { type: 'eval', step: 1, valLoss: 3, bestValLoss: 3 } });
    src.emit({ runName: 'r1', event: { type: 'checkpoint', step: 1, dir: '/x' } });
    src.end({ runName: 'r1', status: 'crashed', error: 'The worker stopped (out of memory).' });
    src.emit({ runName: 'r2', event: stepEvent(1) });
    src.end({ runName: 'r2', status: 'cancelled', error: 'ignored' });
    assert.deepEqual(
      got.map((e) => (e.type === 'state' ? `${e.runId}:${e.state}${e.message ? `:${e.message}` : ''}` : `${e.runId}:${e.type}:${e.step}`)),
      ['r1:running', 'r1:step:1', 'r1:eval:1', 'r1:crashed:The worker stopped (out of memory).', 'r2:running', 'r2:step:1', 'r2:cancelled'],
    );
    const ev = got[2];
    assert.ok(ev.type === 'eval' && ev.tokensSeen === 10);
    sub.dispose();
    assert.equal(src.disposed(), 2);
  });
});

describe('streamOf', () => {
  it('yields pushed items in order, including those pushed before the consumer asked, then ends', async () => {
    const out: number[] = [];
    for await (const x of streamOf<number>(async (push) => {
      push(1);
      push(2);
      await new Promise((r) => setTimeout(r, 5));
      push(3);
    })) out.push(x);
    assert.deepEqual(out, [1, 2, 3]);
  });

  it('rethrows the call’s error after the items before it', async () => {
    const out: number[] = [];
    await assert.rejects(async () => {
      for await (const x of streamOf<number>(async (push) => {
        push(1);
        throw new Error('model folder is missing');
      })) out.push(x);
    }, /model folder is missing/);
    assert.deepEqual(out, [1]);
  });

  it('ends with a cancellation when the signal fires while waiting', async () => {
    const c = new AbortController();
    const it = streamOf<number>(() => new Promise(() => undefined), c.signal);
    const next = it.next();
    c.abort();
    await assert.rejects(next, /Cancelled/);
  });
});
