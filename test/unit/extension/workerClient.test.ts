// The host's worker client against real child processes: a scripted fake worker (to make it misbehave
// on purpose) and the real worker entry (engine/info). Checks answers, validation of what comes back,
// notifications, cancellation, and that a crash fails pending requests and the next request restarts.
import * as assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { getPriority, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { saveModel } from '../../../src/core/checkpoint';
import { initEngine } from '../../../src/core/engine';
import { CancelledError, LlmLabError } from '../../../src/core/errors';
import { makeConfig } from '../../../src/core/model/config';
import { GptModel } from '../../../src/core/model/gpt';
import type { WorkerExit } from '../../../src/extension/workerClient';
import { WorkerClient, WorkerCrashError, WorkerError } from '../../../src/extension/workerClient';

// A worker that answers by method: evaluate echoes, model/info sends a malformed result, generate streams
// until cancelled, attention never answers (so it can be killed mid-request), tokenize exits the process.
const FAKE = `
process.on('message', (m) => {
  if (m.kind === 'cancel') { process.send({ kind: 'response', id: m.id, error: { code: 'cancelled', message: 'stopped' } }); clearInterval(global.t); return; }
  const { id, method, params } = m;
  if (method === 'evaluate') process.send({ kind: 'response', id, result: { loss: params.text.length, perplexity: 2, tokens: 3 } });
  else if (method === 'model/info') process.send({ kind: 'response', id, result: { dir: 'x' } });
  else if (method === 'engine/info') process.send({ kind: 'response', id, error: { code: 'backend', message: 'no backend here' } });
  else if (method === 'generate') { let i = 0; global.t = setInterval(() => process.send({ kind: 'notify', id, method: 'generate/didToken', params: { id: i++, text: 'a' } }), 5); }
  else if (method === 'tokenize') process.exit(3);
});
process.send({ kind: 'ready', pid: process.pid });
`;

describe('worker client', function () {
  this.timeout(30_000);
  let dir: string;
  let client: WorkerClient;
  let exits: WorkerExit[] = [];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'llmlab-wc-'));
    writeFileSync(join(dir, 'fake.js'), FAKE);
    const mine: WorkerExit[] = [];
    exits = mine;
    client = new WorkerClient({ workerPath: join(dir, 'fake.js') });
    client.onDidExit((e) => mine.push(e));
  });
  afterEach(() => {
    client.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts the worker at the niceness asked for (the training worker yields the CPU to completions)', async () => {
    const niced = new WorkerClient({ workerPath: join(dir, 'fake.js'), niceness: 7 });
    try {
      await niced.start();
      assert.equal(getPriority(niced.pid!), 7);
      await client.start();
      assert.equal(getPriority(client.pid!), getPriority(process.pid), 'a client without niceness changed the priority');
    } finally {
      niced.dispose();
    }
  });

  it('sends a request to a separate process and returns the checked result', async () => {
    const r = await client.request('evaluate', { modelDir: 'm', text: 'four' });
    assert.deepEqual(r, { loss: 4, perplexity: 2, tokens: 3 });
    assert.ok(client.pid && client.pid !== process.pid);
  });

  it('rejects a malformed answer instead of passing it on', async () => {
    await assert.rejects(client.request('model/info', { modelDir: 'm' }), (e: unknown) => e instanceof WorkerError && /malformed answer.*name/.test(e.message));
  });

  it('turns library error codes back into LlmLabError', async () => {
    await assert.rejects(client.request('engine/info', {}), (e: unknown) => e instanceof LlmLabError && e.code === 'backend');
  });

  it('streams notifications and cancels through an AbortSignal', async () => {
    const controller = new AbortController();
    const seen: number[] = [];
    const all: string[] = [];
    client.onNotification((n, _id, method) => all.push(`${method}:${n.method}`));
    const p = client.request('generate', { modelDir: 'm', prompt: 'p', maxNewTokens: 9, temperature: 1 }, {
      signal: controller.signal,
      onNotify: (n) => {
        if (n.method === 'generate/didToken') {
          seen.push(n.params.id);
          if (seen.length === 3) controller.abort();
        }
      },
    });
    await assert.rejects(p, (e: unknown) => e instanceof CancelledError);
    assert.deepEqual(seen.slice(0, 3), [0, 1, 2]);
    assert.ok(all.length >= 3 && all.every((x) => x === 'generate:generate/didToken'));
  });

  it('never sends a request cancelled while the worker was starting', async () => {
    // The fake worker records every request it receives; generate would stream forever if it were sent.
    writeFileSync(join(dir, 'fake.js'), FAKE.replace("const { id, method, params } = m;", "const { id, method, params } = m; (global.got ??= []).push(method); if (method === 'evaluate') params.text = global.got.join(',');"));
    const controller = new AbortController();
    const p = client.request('generate', { modelDir: 'm', prompt: 'p', maxNewTokens: 9, temperature: 1 }, { signal: controller.signal });
    controller.abort(); // before the worker said ready
    await assert.rejects(p, (e: unknown) => e instanceof CancelledError);
    const r = await client.request('evaluate', { modelDir: 'm', text: '' });
    assert.equal(r.loss, 'evaluate'.length, 'the worker received the cancelled request too');
  });

  it('fails pending requests when the worker is killed, reports it, and restarts on the next request', async () => {
    await client.start();
    const pending = client.request('attention', { modelDir: 'm', text: 't' });
    await new Promise((r) => setTimeout(r, 50));
    const pid = client.pid!;
    process.kill(pid, 'SIGKILL');
    await assert.rejects(pending, (e: unknown) => e instanceof WorkerCrashError && e.exit.signal === 'SIGKILL' && /killed \(SIGKILL\)/.test(e.message));
    assert.equal(exits.length, 1);
    assert.deepEqual(exits[0], { code: null, signal: 'SIGKILL', expected: false, pending: ['attention'] });
    const r = await client.request('evaluate', { modelDir: 'm', text: 'ab' });
    assert.equal(r.loss, 2);
    assert.notEqual(client.pid, pid, 'the worker was not restarted');
  });

  it('reports a worker that exits by itself with its code', async () => {
    await client.start();
    await assert.rejects(client.request('tokenize', { text: 'x', encoding: 'gpt2', maxSpans: 1 }), (e: unknown) => e instanceof WorkerCrashError && e.exit.code === 3);
    assert.equal(exits[0].expected, false);
  });

  it('a restart asked for by the host is not a crash', async () => {
    await client.start();
    const pending = client.request('attention', { modelDir: 'm', text: 't' });
    await new Promise((r) => setTimeout(r, 50));
    await client.restart();
    await assert.rejects(pending, (e: unknown) => e instanceof CancelledError);
    assert.equal(exits[0].expected, true);
  });
});

describe('worker client with the real worker', function () {
  this.timeout(60_000);
  it('starts the worker entry and reports the engine from that process', async () => {
    const client = new WorkerClient({ workerPath: resolve(__dirname, '../../../src/worker/main.js'), env: { LLM_LAB_BACKEND: 'cpu' } });
    try {
      const info = await client.request('engine/info', {});
      assert.equal(info.backend, 'cpu');
      assert.equal(info.pid, client.pid);
      assert.ok(info.attempts.some((a) => a.name === 'cpu' && a.ok));
    } finally {
      client.dispose();
    }
  });
});

describe('cancelling generate and evaluate in the real worker', function () {
  this.timeout(120_000);
  let dir: string;
  let client: WorkerClient;
  before(async () => {
    await initEngine('cpu');
    dir = mkdtempSync(join(tmpdir(), 'llmlab-wcancel-'));
    const model = GptModel.create(makeConfig('tiny', { contextLength: 8, embDim: 16, nHeads: 2, nLayers: 1 }), 9);
    await saveModel(join(dir, 'm'), model);
    model.dispose();
    client = new WorkerClient({ workerPath: resolve(__dirname, '../../../src/worker/main.js'), env: { LLM_LAB_BACKEND: 'cpu' } });
  });
  after(() => {
    client.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('stops a generation within a few tokens of the cancel', async () => {
    const controller = new AbortController();
    let tokens = 0;
    let atCancel = 0;
    const p = client.request('generate', { modelDir: join(dir, 'm'), prompt: 'Hello', maxNewTokens: 5000, temperature: 1, seed: 1 }, {
      signal: controller.signal,
      onNotify: (n) => {
        if (n.method !== 'generate/didToken') return;
        tokens++;
        if (tokens === 3) {
          atCancel = tokens;
          controller.abort();
        }
      },
    });
    await assert.rejects(p, (e: unknown) => e instanceof CancelledError);
    assert.ok(tokens - atCancel <= 5, `${tokens - atCancel} tokens came after the cancel`);
  });

  it('stops an evaluation long before its end', async () => {
    const controller = new AbortController();
    const text = 'I had always thought Jack Gisburn rather a cheap genius. '.repeat(10_000); // 130,000 tokens: thousands of batches
    await client.request('model/info', { modelDir: join(dir, 'm') }); // loaded before the clock starts
    const started = Date.now();
    setTimeout(() => controller.abort(), 500);
    await assert.rejects(client.request('evaluate', { modelDir: join(dir, 'm'), text }, { signal: controller.signal }), (e: unknown) => e instanceof CancelledError);
    assert.ok(Date.now() - started < 10_000, `the cancel took effect only after ${Date.now() - started} ms`);
  });
});
