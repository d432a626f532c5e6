// Connects the lab panel (src/extension/panel) to the rest of the extension: training events from the
// training controller, and attention maps, model info, streamed generation and data windows from the
// worker. The panel sees only the plain PanelBackend interface.
import { LlmLabError } from '../core/errors';
import { estimateMemory } from '../core/model/config';
import type { AttentionMaps, DataQuery, GeneratedPiece, GenerateSettings, PanelBackend, Subscription } from './panel/backend';
import { streamOf } from './panel/streamOf';
import { panelTrainingFeed } from './panel/trainingFeed';
import type { ModelInfo as PanelModelInfo } from '../protocol/panel';
import type { Lab } from './lab';
import { runsFolder, workspaceRoot } from './lab';
import { checkJobFiles, listRuns } from './runs';
import { isFinetuneJob } from '../protocol/worker';
import { readSettings } from './settings';

async function corpusFiles(lab: Lab): Promise<string[]> {
  // The running run's files, else the latest run's; a panel opened before any run previews the bundled sample.
  const running = lab.training.current;
  if (running && !isFinetuneJob(running.job)) return running.job.files;
  const runs = runsFolder();
  for (const r of runs ? await listRuns(runs) : []) {
    // The Data tab shows a corpus's sliding windows: fine-tuning runs have labelled examples instead.
    if (!r.record || isFinetuneJob(r.record.job)) continue;
    // A job.json naming files outside the workspace is passed over, never previewed.
    const files = await checkJobFiles(r.record, r.dir, workspaceRoot()).catch(() => undefined);
    if (files) return files;
  }
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
    // Steps and evals tagged with their run (NaN points dropped, evals given their tokens seen), and each run's state.
    onTrainingEvent: panelTrainingFeed(training),
    onModelChanged(listener: (info: PanelModelInfo | null) => void): Subscription {
      const sub = model.onDidChange(() => void this.modelInfo().then(listener, () => listener(null)));
      return { dispose: () => sub.dispose() };
    },
    // Through the training service, as the commands do; the panel's request ends once the run is going.
    startTraining: () => lab.trainer.launch(() => lab.trainer.pretrain()),
    async stopTraining() {
      await lab.trainer.stop();
    },
    async resumeTraining() {
      const runs = runsFolder();
      const last = runs ? (await listRuns(runs)).find((r) => r.record) : undefined;
      await lab.trainer.launch(() => lab.trainer.resume(last ? { runDir: last.dir } : {}));
    },
    async attention(text: string, signal: AbortSignal): Promise<AttentionMaps> {
      const r = await worker.request('attention', { modelDir: requireModel(), text }, { signal });
      return { tokens: r.tokens, layers: r.layers };
    },
    generate(settings: GenerateSettings, signal: AbortSignal): AsyncIterable<GeneratedPiece> {
      const modelDir = requireModel();
      return streamOf<GeneratedPiece>(
        (push) =>
          worker.request('generate', { modelDir, ...settings }, {
            signal,
            onNotify: (n) => {
              if (n.method === 'generate/didToken') push(n.params);
            },
          }),
        signal,
      );
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
        ...(info.task ? { task: info.task } : {}),
        ...(info.classes ? { classes: info.classes } : {}),
        ...(info.trained ? { trained: info.trained } : {}),
        ...(info.promptStyle === 'alpaca' || info.promptStyle === 'phi3' ? { promptStyle: info.promptStyle } : {}),
        ...(info.adapter ? { adapterBase: info.adapter.base } : {}),
      };
    },
    async dataPreview(query: DataQuery, signal: AbortSignal) {
      const files = await corpusFiles(lab);
      const r = await worker.request('data/preview', { files, maxFileBytes: readSettings().maxFileBytes, ...query }, { signal });
      return { maxLength: query.maxLength, stride: query.stride, offset: query.offset, ...r };
    },
  };
}
