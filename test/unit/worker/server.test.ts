// The worker's request loop in-process: validation at the edge, one training at a time, cancellation,
// notifications tied to their request, and errors turned into codes the host understands.
import * as assert from 'node:assert/strict';
import { CancelledError, LlmLabError, throwIfAborted } from '../../../src/core/errors';
import type { WorkerToHost } from '../../../src/protocol/worker';
import type { Handlers } from '../../../src/worker/server';
import { WorkerServer } from '../../../src/worker/server';

const job = { runDir: '/r', files: ['/f'], preset: 'tiny', steps: 3, batchSize: 1, learningRate: 1e-3, evalEvery: 1, checkpointEvery: 1, seed: 1, maxFileBytes: 10, resume: false };

function harness(handlers: Handlers) {
  const sent: WorkerToHost[] = [];
  const server = new WorkerServer(handlers, (m) => sent.push(m));
  const responses = (id: number) => sent.filter((m) => m.kind === 'response' && m.id === id);
  return { server, sent, responses };
}

function gate() {
  let open!: () => void;
  const p = new Promise<void>((r) => (open = r));
  return { p, open };
}

describe('worker server', () => {
  it('answers a request once, with the handler result', async () => {
    const { server, responses } = harness({ evaluate: async (p) => ({ loss: p.text.length, perplexity: Math.exp(p.text.length), tokens: 1 }) });
    await server.receive({ kind: 'request', id: 1, method: 'evaluate', params: { modelDir: 'm', text: 'abc' } });
    assert.deepEqual(responses(1), [{ kind: 'response', id: 1, result: { loss: 3, perplexity: Math.exp(3), tokens: 1 } }]);
  });

  it('refuses malformed params before the handler runs', async () => {
    let ran = false;
    const { server, responses } = harness({ evaluate: async () => ((ran = true), { loss: 0, perplexity: 1, tokens: 0 }) });
    await server.receive({ kind: 'request', id: 4, method: 'evaluate', params: { modelDir: 5 } });
    assert.equal(ran, false);
    const r = responses(4)[0];
    assert.ok(r.kind === 'response' && r.error?.code === 'protocol' && /params\.modelDir/.test(r.error.message));
  });

  it('allows one training at a time but inference alongside', async () => {
    const g = gate();
    const { server, responses } = harness({
      'train/start': async (p) => (await g.p, { runDir: p.runDir, steps: 3, finalLoss: 1, checkpointDir: null, cancelled: false }),
      evaluate: async () => ({ loss: 1, perplexity: Math.E, tokens: 2 }),
    });
    const first = server.receive({ kind: 'request', id: 1, method: 'train/start', params: job });
    await server.receive({ kind: 'request', id: 2, method: 'train/start', params: job });
    const busy = responses(2)[0];
    assert.ok(busy.kind === 'response' && busy.error?.code === 'busy', 'a second training was not refused');
    await server.receive({ kind: 'request', id: 3, method: 'evaluate', params: { modelDir: 'm', text: 't' } });
    assert.equal(responses(3).length, 1, 'inference waited for the training');
    g.open();
    await first;
    await server.receive({ kind: 'request', id: 5, method: 'train/start', params: job });
    const again = responses(5)[0];
    assert.ok(again.kind === 'response' && !again.error, 'the training slot was not freed');
  });

  it('a fine-tuning job holds the same training slot as pretraining, and its params are checked by task', async () => {
    const g = gate();
    const ran: string[] = [];
    const { server, responses } = harness({
      'finetune/start': async (p) => (ran.push(p.task), await g.p, { runDir: p.runDir, steps: 2, finalLoss: 0.5, checkpointDir: null, cancelled: false }),
      'train/start': async (p) => ({ runDir: p.runDir, steps: 3, finalLoss: 1, checkpointDir: null, cancelled: false }),
    });
    const ft = { task: 'classify', runDir: '/c', dataFile: '/d.tsv', preset: 'tiny', resume: false };
    const first = server.receive({ kind: 'request', id: 1, method: 'finetune/start', params: ft });
    await server.receive({ kind: 'request', id: 2, method: 'train/start', params: job });
    const busy = responses(2)[0];
    assert.ok(busy.kind === 'response' && busy.error?.code === 'busy', 'pretraining started beside a fine-tuning');
    await server.receive({ kind: 'request', id: 3, method: 'finetune/start', params: { ...ft, task: 'translate' } });
    const bad = responses(3)[0];
    assert.ok(bad.kind === 'response' && bad.error?.code === 'protocol' && /params\.task: unknown kind/.test(bad.error.message), JSON.stringify(bad));
    await server.receive({ kind: 'request', id: 4, method: 'finetune/start', params: { ...ft, task: 'instruct', promptStyle: 'chatml' } });
    const style = responses(4)[0];
    assert.ok(style.kind === 'response' && style.error?.code === 'protocol' && /params\.promptStyle/.test(style.error.message), JSON.stringify(style));
    g.open();
    await first;
    assert.deepEqual(ran, ['classify']);
    assert.ok(responses(1)[0].kind === 'response' && !(responses(1)[0] as { error?: unknown }).error);
  });

  it('cancels a running request by id; the handler sees the signal', async () => {
    const { server, responses } = harness({
      generate: async (_p, ctx) => {
        for (let i = 0; ; i++) {
          throwIfAborted(ctx.signal);
          ctx.notify('generate/didToken', { id: i, text: 'x' });
          await new Promise((r) => setTimeout(r, 5));
        }
      },
    });
    const running = server.receive({ kind: 'request', id: 7, method: 'generate', params: { modelDir: 'm', prompt: 'p', maxNewTokens: 5, temperature: 1 } });
    await new Promise((r) => setTimeout(r, 30));
    assert.deepEqual(server.activeIds, [7]);
    await server.receive({ kind: 'cancel', id: 7 });
    await running;
    const r = responses(7)[0];
    assert.ok(r.kind === 'response' && r.error?.code === 'cancelled');
    assert.deepEqual(server.activeIds, []);
  });

  it('tags notifications with their request id', async () => {
    const { server, sent } = harness({
      'train/start': async (p, ctx) => {
        ctx.notify('train/didEvent', { type: 'log', message: 'hello' });
        return { runDir: p.runDir, steps: 0, finalLoss: null, checkpointDir: null, cancelled: false };
      },
    });
    await server.receive({ kind: 'request', id: 9, method: 'train/start', params: job });
    assert.deepEqual(sent[0], { kind: 'notify', id: 9, method: 'train/didEvent', params: { type: 'log', message: 'hello' } });
  });

  it('passes library error codes through and labels the rest', async () => {
    const { server, responses } = harness({
      evaluate: async () => {
        throw new LlmLabError('bad-checkpoint', 'model.safetensors is truncated; retrain.');
      },
      attention: async () => {
        throw new RangeError('Array buffer allocation failed');
      },
      'model/info': async () => {
        throw new CancelledError();
      },
    });
    await server.receive({ kind: 'request', id: 1, method: 'evaluate', params: { modelDir: 'm', text: 't' } });
    await server.receive({ kind: 'request', id: 2, method: 'attention', params: { modelDir: 'm', text: 't' } });
    await server.receive({ kind: 'request', id: 3, method: 'model/info', params: { modelDir: 'm' } });
    await server.receive({ kind: 'request', id: 4, method: 'generate', params: {} });
    const codes = [1, 2, 3].map((id) => {
      const r = responses(id)[0];
      return r.kind === 'response' ? r.error?.code : undefined;
    });
    assert.deepEqual(codes, ['bad-checkpoint', 'out-of-memory', 'cancelled']);
    const r4 = responses(4)[0];
    assert.ok(r4.kind === 'response' && r4.error?.code === 'protocol', 'a method without a handler must be refused');
  });

  it('answers a malformed envelope that carries an id, and ignores one without', async () => {
    const { server, sent } = harness({});
    await server.receive({ kind: 'request', id: 12, method: 'nope' });
    await server.receive('garbage');
    assert.equal(sent.length, 1);
    assert.ok(sent[0].kind === 'response' && sent[0].id === 12 && sent[0].error?.code === 'protocol');
  });
});
