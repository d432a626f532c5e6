// Typed reads of the `llmLab.*` settings declared in package.json. The defaults live in the manifest,
// which VS Code applies, and nowhere here; the training ones are core's (PRETRAIN_DEFAULTS and the corpus
// size cap), and a unit test holds the manifest to them.
import * as vscode from 'vscode';
import type { CompletionMode } from '../protocol/completion';
import type { Encoding } from '../protocol/model';

export interface LabSettings {
  encoding: Encoding | 'model' | 'trained';
  /** Folder of the trained tokenizer used when encoding is 'trained' (relative to the first workspace folder). */
  trainedTokenizer: string;
  maxDrawnTokens: number;
  showCount: boolean;
  runsFolder: string;
  backend: string;
  workerMaxMemoryMB: number;
  include: string[];
  exclude: string[];
  maxFileBytes: number;
  preset: string;
  steps: number;
  batchSize: number;
  learningRate: number;
  evalEvery: number;
  checkpointEvery: number;
  /** Fill-in-the-middle rate Pretrain on Workspace offers when the files include code; 0 never offers it. */
  fimRate: number;
  maxNewTokens: number;
  temperature: number;
  topK: number;
  /** Hub address for downloads ('' = HF_ENDPOINT, else the Hugging Face hub). */
  hubBaseUrl: string;
  /** Folder of downloaded models ('' = ~/.cache/llm-lab/models, following XDG_CACHE_HOME). */
  modelsFolder: string;
  completion: CompletionSettings;
}

export interface CompletionSettings {
  enabled: boolean;
  model: string;
  languages: string[];
  mode: CompletionMode;
  maxLines: number;
  maxNewTokens: number;
  temperature: number;
  debounceMs: number;
}

type FlatSettings = Omit<LabSettings, 'completion'>;

/** Each setting's key under `llmLab.`. */
const KEYS: { readonly [K in keyof FlatSettings]: string } = {
  encoding: 'tokenizer.encoding',
  trainedTokenizer: 'tokenizer.trainedFolder',
  maxDrawnTokens: 'tokenizer.maxDrawnTokens',
  showCount: 'tokenizer.showCount',
  runsFolder: 'runsFolder',
  backend: 'backend',
  workerMaxMemoryMB: 'worker.maxMemoryMB',
  include: 'pretrain.include',
  exclude: 'pretrain.exclude',
  maxFileBytes: 'pretrain.maxFileBytes',
  preset: 'pretrain.preset',
  steps: 'pretrain.steps',
  batchSize: 'pretrain.batchSize',
  learningRate: 'pretrain.learningRate',
  evalEvery: 'pretrain.evalEvery',
  checkpointEvery: 'pretrain.checkpointEvery',
  fimRate: 'pretrain.fimRate',
  maxNewTokens: 'generate.maxNewTokens',
  temperature: 'generate.temperature',
  topK: 'generate.topK',
  hubBaseUrl: 'download.hubUrl',
  modelsFolder: 'download.modelsFolder',
};

/** The inline-completion settings' keys under `llmLab.`. */
const COMPLETION_KEYS: { readonly [K in keyof CompletionSettings]: string } = {
  enabled: 'inlineCompletion.enabled',
  model: 'inlineCompletion.model',
  languages: 'inlineCompletion.languages',
  mode: 'inlineCompletion.mode',
  maxLines: 'inlineCompletion.maxLines',
  maxNewTokens: 'inlineCompletion.maxNewTokens',
  temperature: 'inlineCompletion.temperature',
  debounceMs: 'inlineCompletion.debounceMs',
};

function readKeys<T>(c: vscode.WorkspaceConfiguration, keys: { readonly [K in keyof T]: string }): T {
  const out = {} as Record<keyof T, unknown>;
  for (const [field, key] of Object.entries(keys) as [keyof T, string][]) out[field] = c.get(key);
  return out as T;
}

export function readSettings(scope?: vscode.ConfigurationScope): LabSettings {
  const c = vscode.workspace.getConfiguration('llmLab', scope);
  const completion = readKeys<CompletionSettings>(c, COMPLETION_KEYS);
  return { ...readKeys<FlatSettings>(c, KEYS), completion: { ...completion, mode: completion.mode === 'block' ? 'block' : 'line' } };
}
