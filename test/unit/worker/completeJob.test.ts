// The worker's inline completion through its real request loop: a run folder answers with its latest
// checkpoint, a folder without a model says what to do, and a cancel message stops the generation mid-way
// (the forward passes of its decode session are counted).
import * as assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { saveModel } from '../../../src/core/checkpoint';
import { initEngine } from '../../../src/core/engine';
import { makeConfig } from '../../../src/core/model/config';
import { DecodeSession } from '../../../src/core/model/decodeSession';
import { GptModel } from '../../../src/core/model/gpt';
import type { ParamsOf, WorkerToHost } from '../../../src/protocol/worker';
import { createHandlers } from '../../../src/worker/handlers';
import { WorkerServer } from '../../../src/worker/server';
import { constantLogitsModel } from '../core/generate/helpers';

/** GPT-2's id of "a" (ids 0–93 are the printable ASCII bytes from "!"). */
const A = 97 - 33;

function request(modelDir: string, over: Partial<ParamsOf<'complete'>> = {}): ParamsOf<'complete'> {
  return {
    modelDir, prefix: 'Every effort moves you', prefixTruncated: false, suffix: '', suffixTruncated: false,
    mode: 'line', maxLines: 1, maxNewTokens: 8, temperature: 0, ...over,
  };
}

describe('worker completion job', function () {
  this.timeout(60_000);
  const config = makeConfig('tiny', { contextLength: 64, dropRate: 0 });
  let dir: string;
  let sent: WorkerToHost[];
  let server: WorkerServer;
  const response = (id: number) => sent.find((m) => m.kind === 'response' && m.id === id) as Extract<WorkerToHost, { kind: 'response' }> | undefined;

  before(async () => {
    process.env.LLM_LAB_BACKEND = 'cpu';
    await initEngine('cpu');
    dir = mkdtempSync(join(tmpdir(), 'llmlab-complete-'));
    // A run folder with two checkpoints: the later one always says "a".
    const early = GptModel.create(config, 3);
    await saveModel(join(dir, 'run', 'checkpoints', 'step-000010'), early, { tokenizer: 'gpt2', step: 10 });
    early.dispose();
    const late = constantLogitsModel(Array.from({ length: config.vocabSize }, (_, i) => (i === A ? 10 : 0)), config);
    await saveModel(join(dir, 'run', 'checkpoints', 'step-000020'), late, { tokenizer: 'gpt2', step: 20 });
    late.dispose();
    mkdirSync(join(dir, 'empty'));
  });
  beforeEach(() => {
    sent = [];
    server = new WorkerServer(createHandlers(), (m) => sent.push(m));
  });
  after(() => {
    delete process.env.LLM_LAB_BACKEND;
    rmSync(dir, { recursive: true, force: true });
  });

  it("answers from a run folder's latest checkpoint", async () => {
    await server.receive({ kind: 'request', id: 1, method: 'complete', params: request(join(dir, 'run'), { maxNewTokens: 6 }) });
    const r = response(1);
    assert.ok(r && !r.error, JSON.stringify(r));
    const result = r.result as { text: string; tokens: number; stop: string; modelDir: string; fim: boolean };
    assert.equal(result.modelDir, join(dir, 'run', 'checkpoints', 'step-000020'));
    assert.deepEqual([result.text, result.tokens, result.stop, result.fim], ['aaaaaa', 6, 'max-tokens', false]);
  });

  it('says what to do when the folder holds no model', async () => {
    await server.receive({ kind: 'request', id: 2, method: 'complete', params: request(join(dir, 'empty')) });
    const r = response(2);
    assert.equal(r?.error?.code, 'not-found');
    assert.match(r!.error!.message, /holds no model.*llmLab\.inlineCompletion\.model/);
  });

  it('stops computing mid-generation when the host cancels', async () => {
    const logits = DecodeSession.prototype.logits;
    let passes = 0;
    DecodeSession.prototype.logits = function (this: DecodeSession, ...args: Parameters<DecodeSession['logits']>) {
      passes++;
      // The cancel comes as the next message from the host, on a later turn of the event loop.
      if (passes === 3) setImmediate(() => void server.receive({ kind: 'cancel', id: 3 }));
      return logits.apply(this, args);
    };
    try {
      await server.receive({ kind: 'request', id: 3, method: 'complete', params: request(join(dir, 'run'), { maxNewTokens: 40 }) });
    } finally {
      DecodeSession.prototype.logits = logits;
    }
    assert.equal(response(3)?.error?.code, 'cancelled');
    assert.ok(passes >= 3 && passes < 8, `${passes} forward passes of 40 before the cancel took effect`);
  });
});
