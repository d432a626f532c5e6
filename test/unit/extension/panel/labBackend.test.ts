// The panel backend over fake extension services: model info with memory and backend, generation
// streamed from worker notifications, attention passed through, buttons as commands, training events
// fed to the panel, and data windows from the bundled sample before any run.
import * as assert from 'node:assert/strict';
import { join } from 'node:path';
import type { PanelTrainingEvent } from '../../../../src/extension/panel/backend';
import type { LabServices } from '../../../../src/extension/panel/labBackend';
import { labPanelBackend } from '../../../../src/extension/panel/labBackend';
import { makeConfig } from '../../../../src/core/model/config';

const root = join(__dirname, '..', '..', '..', '..', '..');

function fakeLab(modelDir: string | undefined) {
  const requests: Array<{ method: string; params: object }> = [];
  const commands: string[] = [];
  let onEvent: (e: { runName: string; event: { type: string } }) => void = () => undefined;
  const config = makeConfig('tiny');
  const lab: LabServices = {
    context: { asAbsolutePath: (p) => join(root, p), subscriptions: [] },
    worker: {
      async request(method, params, opts) {
        requests.push({ method, params });
        if (method === 'model/info') return { dir: modelDir, name: 'tiny-1', config, parameters: 3_000_000, tokenizer: 'gpt2' };
        if (method === 'engine/info') return { backend: 'native' };
        if (method === 'attention') return { tokens: ['a'], layers: [[new Float32Array([1])]] };
        if (method === 'generate') {
          opts?.onNotify?.({ method: 'generate/didToken', params: { id: 11, text: ' yes' } });
          opts?.onNotify?.({ method: 'train/didEvent', params: {} });
          opts?.onNotify?.({ method: 'generate/didToken', params: { id: 12, text: '!' } });
          return { text: ' yes!', tokens: 2, stoppedAtEot: false };
        }
        throw new Error(`unexpected ${method}`);
      },
    },
    training: {
      onDidEvent: (l) => ((onEvent = l), { dispose: () => undefined }),
      onDidEnd: () => ({ dispose: () => undefined }),
    },
    model: { dir: modelDir, onDidChange: () => ({ dispose: () => undefined }), tokenizer: async () => 'gpt2' },
  };
  const backend = labPanelBackend(lab, async (c) => commands.push(c));
  return { backend, requests, commands, emit: (e: Parameters<typeof onEvent>[0]) => onEvent(e), config };
}

describe('labPanelBackend', () => {
  it('reports the selected model with its memory estimate and the worker backend, or none', async () => {
    const { backend, config } = fakeLab('/runs/tiny-1/final');
    const info = await backend.modelInfo();
    assert.ok(info);
    assert.equal(info.checkpointPath, '/runs/tiny-1/final');
    assert.equal(info.backend, 'native');
    assert.equal(info.config.nLayers, config.nLayers);
    assert.ok(info.memory.trainingBytes > info.memory.weightsBytes);
    assert.equal(await fakeLab(undefined).backend.modelInfo(), null);
  });

  it('streams generated tokens from the worker notifications and passes the model and settings', async () => {
    const { backend, requests } = fakeLab('/m');
    const got: string[] = [];
    for await (const t of backend.generate({ prompt: 'Hi', maxNewTokens: 2, temperature: 0, topCandidates: 0 }, new AbortController().signal)) got.push(t.text);
    assert.deepEqual(got, [' yes', '!']);
    assert.deepEqual(requests.at(-1), { method: 'generate', params: { modelDir: '/m', prompt: 'Hi', maxNewTokens: 2, temperature: 0, topCandidates: 0 } });
  });

  it('says what to do when no model is selected', async () => {
    const { backend } = fakeLab(undefined);
    await assert.rejects(backend.attention('x', new AbortController().signal), /No model is selected: train one .* or pick one with LLM Lab: Select Model/);
  });

  it('runs the training commands for the buttons', async () => {
    const { backend, commands } = fakeLab('/m');
    await backend.startTraining();
    await backend.stopTraining();
    await backend.resumeTraining();
    assert.deepEqual(commands, ['llmLab.pretrain', 'llmLab.stopTraining', 'llmLab.resumeTraining']);
  });

  it('feeds the controller’s training events to the panel', () => {
    const { backend, emit } = fakeLab('/m');
    const got: PanelTrainingEvent[] = [];
    backend.onTrainingEvent((e) => got.push(e));
    emit({ runName: 'r', event: { type: 'step', step: 1, totalSteps: 2, loss: 3, lr: 1e-3, tokensSeen: 8, tokensPerSec: 4 } as { type: string } });
    assert.deepEqual(got.map((e) => e.type), ['state', 'step']);
  });

  it('shows windows of the bundled sample before any run', async () => {
    const { backend } = fakeLab(undefined);
    const p = await backend.dataPreview({ maxLength: 4, stride: 4, offset: 0, count: 2 }, new AbortController().signal);
    assert.equal(p.source, 'the-verdict.txt');
    assert.equal(p.windows.length, 2);
    // The book's first window: "I HAD always" → " HAD always thought".
    assert.deepEqual(p.windows[0].inputIds, [40, 367, 2885, 1464]);
    assert.deepEqual(p.windows[0].targetIds, [367, 2885, 1464, 1807]);
    assert.equal(p.windows[0].inputTokens.join(''), 'I HAD always');
  });
});
