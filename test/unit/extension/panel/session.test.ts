// The panel session: holds messages until `ready`, replays training history after a reload, validates
// what the panel sends, streams and stops generation, and only ever posts messages the panel accepts.
import * as assert from 'node:assert/strict';
import { PanelSession } from '../../../../src/extension/panel/session';
import type { ToPanelMessage } from '../../../../src/protocol/panel';
import { parseToPanel } from '../../../../src/protocol/panel';
import { FakeBackend, FakeEditor } from './fakeBackend';

const tick = () => new Promise((r) => setImmediate(r));

function setup() {
  const backend = new FakeBackend();
  const editor = new FakeEditor();
  const posted: ToPanelMessage[] = [];
  const logs: string[] = [];
  const session = new PanelSession(
    backend,
    editor,
    (m) => {
      const p = parseToPanel(m);
      assert.ok(p.ok, `the session posted a message the panel would refuse: ${p.ok ? '' : p.error}`);
      posted.push(m);
    },
    (l) => logs.push(l),
  );
  const types = () => posted.map((m) => m.type);
  return { backend, editor, posted, logs, session, types };
}

const step = (n: number, runId = 'run-1') => ({ type: 'step' as const, runId, step: n, totalSteps: 10, loss: 5 - n / 10, lr: 1e-3, tokensSeen: n * 256, tokensPerSec: 1000 });

describe('PanelSession', () => {
  it('posts nothing before ready, then replays training history and held messages in order', async () => {
    const { backend, session, posted, types } = setup();
    backend.emit(step(1));
    backend.emit(step(2));
    backend.emit({ type: 'state', runId: 'run-1', state: 'running' });
    assert.equal(posted.length, 0);
    session.receive({ type: 'ready', body: {} });
    await tick();
    assert.deepEqual(types(), ['train/didReplay', 'train/didChangeState', 'train/didChangeState', 'model/didChange']);
    const replay = posted[0];
    assert.ok(replay.type === 'train/didReplay');
    assert.deepEqual(replay.body.steps.map((s) => s.step), [1, 2]);
    backend.emit(step(3));
    assert.equal(posted.at(-1)?.type, 'train/didReportStep');
  });

  it('after the panel reloads, replays every step seen, including those while it was hidden, once each', async () => {
    const { backend, session, posted } = setup();
    session.receive({ type: 'ready', body: {} });
    await tick();
    backend.emit(step(1));
    session.suspend();
    backend.emit(step(2));
    backend.emit(step(2)); // a duplicate is dropped
    const before = posted.length;
    session.receive({ type: 'ready', body: {} });
    await tick();
    const replay = posted.slice(before).find((m) => m.type === 'train/didReplay');
    assert.ok(replay && replay.type === 'train/didReplay');
    assert.deepEqual(replay.body.steps.map((s) => s.step), [1, 2]);
  });

  it('forgets steps after the one a resumed run goes back to', async () => {
    const { backend, session, posted } = setup();
    for (const n of [1, 2, 3, 4]) backend.emit(step(n));
    backend.emit(step(3)); // resumed from the step-2 checkpoint
    session.receive({ type: 'ready', body: {} });
    await tick();
    const replay = posted[0];
    assert.ok(replay.type === 'train/didReplay');
    assert.deepEqual(replay.body.steps.map((s) => s.step), [1, 2, 3]);
  });

  it('ignores an invalid message from the panel, logs why and calls nothing', async () => {
    const { backend, session, logs } = setup();
    session.receive({ type: 'train/start', body: { force: true } });
    session.receive({ type: 'rm -rf', body: {} });
    session.receive('ready');
    await tick();
    assert.deepEqual(backend.calls, []);
    assert.equal(logs.length, 3);
    assert.ok(logs[0].includes('unexpected field'));
  });

  it('routes training buttons to the backend and reports a failure to the panel', async () => {
    const { backend, session, posted } = setup();
    session.receive({ type: 'ready', body: {} });
    session.receive({ type: 'train/start', body: {} });
    session.receive({ type: 'train/stop', body: {} });
    session.receive({ type: 'train/resume', body: {} });
    await tick();
    assert.deepEqual(backend.calls, ['start', 'stop', 'resume']);
    backend.resumeTraining = async () => {
      throw new Error('No checkpoint to resume from; start a run first.');
    };
    session.receive({ type: 'train/resume', body: {} });
    await tick();
    const fail = posted.find((m) => m.type === 'panel/didFail');
    assert.ok(fail && fail.type === 'panel/didFail');
    assert.equal(fail.body.message, 'No checkpoint to resume from; start a run first.');
  });

  it('streams generated tokens with their candidates and finishes with done', async () => {
    const { backend, session, posted } = setup();
    backend.pieces = [
      { id: 11, text: ' the', candidates: [{ id: 11, text: ' the', prob: 0.5 }, { id: 12, text: ' a', prob: 0.25 }] },
      { id: 13, text: ' end' },
    ];
    session.receive({ type: 'ready', body: {} });
    session.receive({ type: 'generate/start', body: { requestId: 'g1', prompt: 'At', maxNewTokens: 2, temperature: 0, topCandidates: 2 } });
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(backend.calls, ['generate:At:2']);
    const gen = posted.filter((m) => m.type.startsWith('generate/'));
    assert.deepEqual(gen.map((m) => m.type), ['generate/didStart', 'generate/didStreamToken', 'generate/didStreamToken', 'generate/didFinish']);
    assert.ok(gen[0].type === 'generate/didStart' && gen[0].body.prompt === 'At');
    assert.ok(gen[1].type === 'generate/didStreamToken' && gen[1].body.candidates?.length === 2);
    assert.ok(gen[3].type === 'generate/didFinish' && gen[3].body.reason === 'done');
  });

  it('formats an instruction in the asked prompt style before generating, and tells the panel the text used', async () => {
    const { backend, session, posted } = setup();
    backend.pieces = [{ id: 1, text: 'Blue' }];
    session.receive({ type: 'ready', body: {} });
    session.receive({
      type: 'generate/start',
      body: { requestId: 'g3', prompt: 'Name a colour.', input: 'sky', promptStyle: 'alpaca', maxNewTokens: 1, temperature: 0, topCandidates: 0 },
    });
    await new Promise((r) => setTimeout(r, 20));
    // The book's chapter 7 template, written out here by hand.
    const alpaca =
      'Below is an instruction that describes a task. Write a response that appropriately completes the request.\n\n' +
      '### Instruction:\nName a colour.\n\n### Input:\nsky\n\n### Response:\n';
    assert.deepEqual(backend.calls, [`generate:${alpaca}:1`]);
    const started = posted.find((m) => m.type === 'generate/didStart');
    assert.ok(started?.type === 'generate/didStart' && started.body.prompt === alpaca);
    session.receive({ type: 'generate/start', body: { requestId: 'g4', prompt: 'Hi', promptStyle: 'phi3', maxNewTokens: 1, temperature: 0, topCandidates: 0 } });
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(backend.calls[1], 'generate:<|user|>\nHi\n<|assistant|>:\n:1');
  });

  it('passes a fine-tuning run’s eval measures and test result on, and replays the test result after a reload', async () => {
    const { backend, session, posted } = setup();
    session.receive({ type: 'ready', body: {} });
    await tick();
    backend.emit(step(2));
    backend.emit({ type: 'eval', runId: 'run-1', step: 2, valLoss: 0.5, tokensSeen: 512, metrics: { valAccuracy: 0.75 } });
    const confusion = { labels: ['ham', 'spam'], counts: [[3, 1], [0, 4]] };
    backend.emit({ type: 'test', runId: 'run-1', step: 2, metrics: { testAccuracy: 0.875 }, confusion });
    const ev = posted.find((m) => m.type === 'train/didReportEval');
    assert.ok(ev?.type === 'train/didReportEval');
    assert.deepEqual(ev.body.metrics, { valAccuracy: 0.75 });
    const test = posted.find((m) => m.type === 'train/didReportTest');
    assert.ok(test?.type === 'train/didReportTest');
    assert.deepEqual(test.body, { runId: 'run-1', step: 2, metrics: { testAccuracy: 0.875 }, confusion });
    session.suspend();
    const before = posted.length;
    session.receive({ type: 'ready', body: {} });
    await tick();
    const replay = posted.slice(before).find((m) => m.type === 'train/didReplay');
    assert.ok(replay?.type === 'train/didReplay');
    assert.deepEqual(replay.body.tests, [{ runId: 'run-1', step: 2, metrics: { testAccuracy: 0.875 }, confusion }]);
    assert.deepEqual(replay.body.evals[0].metrics, { valAccuracy: 0.75 });
  });

  it('stops a generation on request and reports it as stopped', async () => {
    const { backend, session, posted } = setup();
    let release: () => void = () => undefined;
    backend.gate = () => new Promise<void>((r) => (release = r));
    backend.pieces = [{ id: 1, text: 'a' }, { id: 2, text: 'b' }, { id: 3, text: 'c' }];
    session.receive({ type: 'ready', body: {} });
    session.receive({ type: 'generate/start', body: { requestId: 'g2', prompt: '', maxNewTokens: 3, temperature: 1, topCandidates: 0 } });
    await tick();
    release();
    await tick();
    session.receive({ type: 'generate/stop', body: { requestId: 'g2' } });
    assert.equal(backend.lastSignal?.aborted, true);
    release();
    await tick();
    await tick();
    const tokens = posted.filter((m) => m.type === 'generate/didStreamToken');
    assert.equal(tokens.length, 1);
    const fin = posted.find((m) => m.type === 'generate/didFinish');
    assert.ok(fin && fin.type === 'generate/didFinish' && fin.body.reason === 'stopped');
  });

  it('sends attention maps as plain lists clamped to [0, 1] and rounded to 4 decimals, and refuses too long a text with advice', async () => {
    const { backend, session, posted } = setup();
    backend.attentionResult = { tokens: ['A', 'B'], layers: [[new Float32Array([1.0000001, 0, 0.123456, 0.876544])]] };
    session.receive({ type: 'ready', body: {} });
    session.receive({ type: 'attention/request', body: { requestId: 'a1', text: 'AB' } });
    await tick();
    const a = posted.find((m) => m.type === 'attention/didCompute');
    assert.ok(a && a.type === 'attention/didCompute');
    assert.deepEqual(a.body.weights, [[[1, 0, 0.1235, 0.8765]]]);
    backend.attentionResult = { tokens: new Array(1025).fill('x'), layers: [[new Float32Array(1025 * 1025)]] };
    session.receive({ type: 'attention/request', body: { requestId: 'a2', text: 'long' } });
    await tick();
    const fail = posted.find((m) => m.type === 'panel/didFail');
    assert.ok(fail && fail.type === 'panel/didFail' && fail.body.requestId === 'a2');
    assert.match(fail.body.message, /1025 tokens.*at most 1024.*shorter/);
    // GPT-2 small has 12 layers × 12 heads: 200 tokens is too many weights for one message.
    backend.attentionResult = { tokens: new Array(200).fill('x'), layers: Array.from({ length: 12 }, () => Array.from({ length: 12 }, () => new Float32Array(200 * 200))) };
    session.receive({ type: 'attention/request', body: { requestId: 'a3', text: 'gpt2' } });
    await tick();
    const fail3 = posted.find((m) => m.type === 'panel/didFail' && m.body.requestId === 'a3');
    assert.ok(fail3 && fail3.type === 'panel/didFail');
    assert.match(fail3.body.message, /200 tokens; with 144 attention maps the panel shows at most 117 tokens/);
  });

  it('answers a selection request with the text, or with advice when nothing is selected', async () => {
    const { editor, session, posted } = setup();
    session.receive({ type: 'ready', body: {} });
    session.receive({ type: 'editor/requestSelection', body: {} });
    editor.selected = 'Every effort moves you';
    session.receive({ type: 'editor/requestSelection', body: {} });
    await tick();
    const [fail, sel] = posted.filter((m) => m.type === 'panel/didFail' || m.type === 'editor/didSelect');
    assert.ok(fail.type === 'panel/didFail' && /Select some text/.test(fail.body.message));
    assert.ok(sel.type === 'editor/didSelect' && sel.body.text === 'Every effort moves you');
  });

  it('passes data requests, inserts and copies through', async () => {
    const { backend, editor, session, posted } = setup();
    session.receive({ type: 'ready', body: {} });
    session.receive({ type: 'data/request', body: { requestId: 'd1', maxLength: 4, stride: 2, offset: 1, count: 3 } });
    session.receive({ type: 'editor/insert', body: { text: 'hello' } });
    session.receive({ type: 'clipboard/copy', body: { text: 'copy me' } });
    await tick();
    assert.deepEqual(backend.calls, ['data:4:2:1:3']);
    const d = posted.find((m) => m.type === 'data/didPreview');
    assert.ok(d && d.type === 'data/didPreview' && d.body.requestId === 'd1');
    assert.deepEqual(editor.inserted, ['hello']);
    assert.deepEqual(editor.copied, ['copy me']);
  });

  it('on dispose, cancels running work, unsubscribes and posts nothing more', async () => {
    const { backend, session, posted } = setup();
    backend.gate = () => new Promise<void>(() => undefined); // never releases
    backend.pieces = [{ id: 1, text: 'a' }];
    session.receive({ type: 'ready', body: {} });
    session.receive({ type: 'generate/start', body: { requestId: 'g3', prompt: '', maxNewTokens: 1, temperature: 1, topCandidates: 0 } });
    await tick();
    const n = posted.length;
    session.dispose();
    assert.equal(backend.lastSignal?.aborted, true);
    assert.equal(backend.listenerCount, 0);
    backend.emit(step(1));
    assert.equal(posted.length, n);
  });
});
