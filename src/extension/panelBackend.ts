// Connects the lab panel (src/extension/panel) to the rest of the extension: training events from the
// training controller, and attention maps, model info, streamed generation and data windows from the
// worker. The panel sees only the plain PanelBackend interface.
import * as vscode from 'vscode';
import { LlmLabError } from '../core/errors';
import { estimateMemory } from '../core/model/config';
import type { AttentionMaps, DataQuery, GeneratedPiece, GenerateSettings, PanelBackend, PanelTrainingEvent, Subscription } from './panel/backend';
import type { ModelInfo as PanelModelInfo } from '../protocol/panel';
import type { Lab } from './lab';
import { runsFolder } from './lab';
import { listRuns } from './runs';
import { readSettings } from './settings';

async function corpusFiles(lab: Lab): Promise<string[]> {
  // The running run's files, else the latest run's; a panel opened before any run previews the bundled sample.
  const running = lab.training.current;
  if (running) return running.job.files;
  const runs = runsFolder();
  for (const r of runs ? await listRuns(runs) : []) if (r.record) return r.record.job.files;
  return [lab.context.asAbsolutePath('samples/the-verdict.txt')];
}

export function createPanelBackend(lab: Lab): PanelBackend {
  const { worker, training, model } = lab;
  const requireModel = (): string => {
    const dir = model.dir;
    if (!dir) throw new LlmLabError('not-found', 'No model is selected. Run LLM Lab: Select Model, or pretrain one.');
    return dir;
  };
  return {
    onTrainingEvent(listener: (e: PanelTrainingEvent) => void): Subscription {
      const subs = [
        training.onDidEvent(({ runName, event }) => {
          if (event.type === 'start') listener({ type: 'state', runId: runName, state: 'running' });
          else if (event.type === 'step') {
            listener({ type: 'step', runId: runName, step: event.step, totalSteps: event.totalSteps, loss: event.loss, lr: event.lr, tokensSeen: event.tokensSeen, tokensPerSec: event.tokensPerSec });
          } else if (event.type === 'eval') {
            listener({ type: 'eval', runId: runName, step: event.step, valLoss: event.valLoss, tokensSeen: training.current?.last?.tokensSeen ?? 0 });
          }
        }),
        training.onDidEnd((o) => {
          const state = o.status === 'finished' ? 'finished' : o.status === 'cancelled' ? 'stopped' : 'failed';
          listener({ type: 'state', runId: o.runName, state, ...(o.error ? { message: o.error } : {}) });
        }),
      ];
      return { dispose: () => subs.forEach((s) => s.dispose()) };
    },
    onModelChanged(listener: (info: PanelModelInfo | null) => void): Subscription {
      const sub = model.onDidChange(() => void this.modelInfo().then(listener, () => listener(null)));
      return { dispose: () => sub.dispose() };
    },
    async startTraining() {
      await vscode.commands.executeCommand('llmLab.pretrain');
    },
    async stopTraining() {
      await vscode.commands.executeCommand('llmLab.stopTraining');
    },
    async resumeTraining() {
      const runs = runsFolder();
      const last = runs ? (await listRuns(runs)).find((r) => r.record) : undefined;
      await vscode.commands.executeCommand('llmLab.resumeTraining', last ? { runDir: last.dir } : undefined);
    },
    async attention(text: string, signal: AbortSignal): Promise<AttentionMaps> {
      const r = await worker.request('attention', { modelDir: requireModel(), text }, { signal });
      return { tokens: r.tokens, layers: r.layers };
    },
    generate(settings: GenerateSettings, signal: AbortSignal): AsyncIterable<GeneratedPiece> {
      const modelDir = requireModel();
      return {
        [Symbol.asyncIterator]: () => {
          const queue: GeneratedPiece[] = [];
          let done = false;
          let failure: unknown;
          let wake: (() => void) | undefined;
          const poke = () => {
            wake?.();
            wake = undefined;
          };
          worker
            .request('generate', { modelDir, ...settings }, {
              signal,
              onNotify: (n) => {
                if (n.method === 'generate/didToken') {
                  queue.push(n.params);
                  poke();
                }
              },
            })
            .then(
              () => (done = true),
              (e) => ((failure = e), (done = true)),
            )
            .finally(poke);
          return {
            async next(): Promise<IteratorResult<GeneratedPiece>> {
              for (;;) {
                if (queue.length) return { value: queue.shift()!, done: false };
                if (failure) throw failure;
                if (done) return { value: undefined, done: true };
                await new Promise<void>((r) => (wake = r));
              }
            },
          };
        },
      };
    },
    async modelInfo(): Promise<PanelModelInfo | null> {
      const dir = model.dir;
      if (!dir) return null;
      const [info, engine] = await Promise.all([worker.request('model/info', { modelDir: dir }), worker.request('engine/info', {})]);
      const mem = estimateMemory(info.config, readSettings().batchSize);
      return {
        name: info.name,
        config: info.config,
        parameters: info.parameters,
        memory: { weightsBytes: mem.weightsBytes, trainingBytes: mem.trainingBytes, inferenceBytes: mem.inferenceBytes },
        backend: engine.backend,
        checkpointPath: info.dir,
        tokenizer: info.tokenizer,
      };
    },
    async dataPreview(query: DataQuery, signal: AbortSignal) {
      const files = await corpusFiles(lab);
      const r = await worker.request('data/preview', { files, maxFileBytes: readSettings().maxFileBytes, ...query }, { signal });
      return { maxLength: query.maxLength, stride: query.stride, offset: query.offset, ...r };
    },
  };
}
