// The lab panel's backend over the extension's shared services (the `Lab` built in activate): training
// events from the training controller, the buttons as the Pretrain/Stop/Resume commands, attention,
// generation and model info from the worker for the selected model, and the Data tab's windows from the
// corpus of the current or last run (the bundled sample before any run). `LabServices` names only what
// is used here, so this file builds and is tested on its own, and the extension's `Lab` fits it as it is.
import { basename, join } from 'node:path';
import { encodeCorpus, loadCorpus } from '../../core/data';
import { LlmLabError } from '../../core/errors';
import type { GptConfig } from '../../core/model/config';
import { estimateMemory } from '../../core/model/config';
import type { EncodingName } from '../../core/tokenizer';
import { getTokenizer } from '../../core/tokenizer';
import type { ModelInfo } from '../../protocol/panel';
import type { GeneratedPiece, PanelBackend, Subscription } from './backend';
import { buildDataPreview } from './dataPreview';
import { streamOf } from './streamOf';
import type { TrainingSource } from './trainingFeed';
import { panelTrainingFeed } from './trainingFeed';

interface RequestOpts {
  signal?: AbortSignal;
  onNotify?: (notice: { method: string; params: unknown }) => void;
}

/**
 * The worker client, typed loosely so the extension's WorkerClient fits as it is; it checks every result
 * against src/protocol/worker.ts, and the shapes the panel reads are named below.
 */
export interface PanelWorker {
  request(method: string, params: object, opts?: RequestOpts): Promise<unknown>;
}

interface WorkerModelInfo {
  dir: string;
  name: string;
  config: GptConfig;
  parameters: number;
  tokenizer: EncodingName;
}

export interface LabServices {
  context: { asAbsolutePath(relative: string): string; subscriptions: { dispose(): unknown }[] };
  worker: PanelWorker;
  training: TrainingSource & { current?: { runName: string; job: { files: string[]; maxFileBytes: number } } };
  model: {
    readonly dir: string | undefined;
    onDidChange(listener: (dir: string | undefined) => void): Subscription;
    tokenizer(worker: PanelWorker): Promise<EncodingName>;
  };
}

const MAX_FILE_BYTES = 2 * 1024 * 1024;

/** `runCommand` runs a VS Code command (vscode.commands.executeCommand in the extension, a fake in tests). */
export function labPanelBackend(lab: LabServices, runCommand: (command: string) => PromiseLike<unknown>): PanelBackend {
  const selectedModel = (): string => {
    const dir = lab.model.dir;
    if (!dir) throw new LlmLabError('not-found', 'No model is selected: train one (Start, or LLM Lab: Pretrain on Workspace) or pick one with LLM Lab: Select Model.');
    return dir;
  };

  const modelInfo = async (): Promise<ModelInfo | null> => {
    const dir = lab.model.dir;
    if (!dir) return null;
    const [m, engine] = await Promise.all([
      lab.worker.request('model/info', { modelDir: dir }) as Promise<WorkerModelInfo>,
      lab.worker.request('engine/info', {}) as Promise<{ backend: string }>,
    ]);
    const mem = estimateMemory(m.config, 1);
    return {
      name: m.name,
      config: m.config,
      parameters: m.parameters,
      memory: { weightsBytes: mem.weightsBytes, trainingBytes: mem.trainingBytes, inferenceBytes: mem.inferenceBytes },
      backend: engine.backend,
      checkpointPath: m.dir,
      tokenizer: m.tokenizer,
    };
  };

  // The corpus of the running job, remembered after it ends; encoded once per file list.
  let lastJob: { files: string[]; maxFileBytes: number; runName: string } | undefined;
  lab.context.subscriptions.push(
    lab.training.onDidEvent(() => {
      const c = lab.training.current;
      if (c) lastJob = { files: c.job.files, maxFileBytes: c.job.maxFileBytes, runName: c.runName };
    }),
  );
  let encoded: { key: string; ids: Int32Array } | undefined;

  return {
    onTrainingEvent: panelTrainingFeed(lab.training),
    onModelChanged: (listener) =>
      lab.model.onDidChange(() => {
        modelInfo().then(listener, () => listener(null));
      }),
    // The commands ask for what they need (files, preset) and report errors themselves.
    // Pretrain and Resume resolve when the run ends: do not hold the panel's request that long.
    startTraining: async () => {
      void runCommand('llmLab.pretrain');
    },
    stopTraining: async () => {
      await runCommand('llmLab.stopTraining');
    },
    resumeTraining: async () => {
      void runCommand('llmLab.resumeTraining');
    },
    attention: async (text, signal) => lab.worker.request('attention', { modelDir: selectedModel(), text }, { signal }) as Promise<{ tokens: string[]; layers: Float32Array[][] }>,
    generate: (settings, signal) =>
      streamOf<GeneratedPiece>(
        (push) =>
          lab.worker.request('generate', { modelDir: selectedModel(), ...settings }, {
            signal,
            onNotify: (n) => {
              if (n.method === 'generate/didToken') push(n.params as GeneratedPiece);
            },
          }),
        signal,
      ),
    modelInfo,
    dataPreview: async (query, signal) => {
      const job = lastJob ?? { files: [lab.context.asAbsolutePath(join('samples', 'the-verdict.txt'))], maxFileBytes: MAX_FILE_BYTES, runName: '' };
      const encoding = await lab.model.tokenizer(lab.worker);
      const tokenizer = getTokenizer(encoding);
      const key = `${encoding}\n${job.files.join('\n')}`;
      if (encoded?.key !== key) {
        const corpus = await loadCorpus(job.files, { maxFileBytes: job.maxFileBytes, signal });
        encoded = { key, ids: await encodeCorpus(corpus.text, tokenizer, { signal }) };
      }
      const source = job.files.length === 1 ? basename(job.files[0]) : `${job.files.length} files`;
      return buildDataPreview(encoded.ids, tokenizer, query, job.runName ? `${source} of run ${job.runName}` : source);
    },
  };
}
