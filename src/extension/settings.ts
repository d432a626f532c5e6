// Typed reads of the `llmLab.*` settings declared in package.json, with the declared defaults.
import * as vscode from 'vscode';
import type { CompletionMode } from '../protocol/completion';
import type { Encoding } from '../protocol/model';

export interface LabSettings {
  encoding: Encoding | 'model';
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

export function readSettings(scope?: vscode.ConfigurationScope): LabSettings {
  const c = vscode.workspace.getConfiguration('llmLab', scope);
  return {
    encoding: c.get<Encoding | 'model'>('tokenizer.encoding', 'gpt2'),
    maxDrawnTokens: c.get<number>('tokenizer.maxDrawnTokens', 5000),
    showCount: c.get<boolean>('tokenizer.showCount', true),
    runsFolder: c.get<string>('runsFolder', '.llm-lab/runs'),
    backend: c.get<string>('backend', 'auto'),
    workerMaxMemoryMB: c.get<number>('worker.maxMemoryMB', 0),
    include: c.get<string[]>('pretrain.include', ['**/*.txt', '**/*.md']),
    exclude: c.get<string[]>('pretrain.exclude', ['**/node_modules/**', '**/.git/**']),
    maxFileBytes: c.get<number>('pretrain.maxFileBytes', 5_000_000),
    preset: c.get<string>('pretrain.preset', 'tiny'),
    steps: c.get<number>('pretrain.steps', 200),
    batchSize: c.get<number>('pretrain.batchSize', 8),
    learningRate: c.get<number>('pretrain.learningRate', 0.003),
    evalEvery: c.get<number>('pretrain.evalEvery', 50),
    checkpointEvery: c.get<number>('pretrain.checkpointEvery', 50),
    maxNewTokens: c.get<number>('generate.maxNewTokens', 100),
    temperature: c.get<number>('generate.temperature', 0.8),
    topK: c.get<number>('generate.topK', 40),
    completion: {
      enabled: c.get<boolean>('inlineCompletion.enabled', false),
      model: c.get<string>('inlineCompletion.model', ''),
      languages: c.get<string[]>('inlineCompletion.languages', ['*']),
      mode: c.get<CompletionMode>('inlineCompletion.mode', 'line') === 'block' ? 'block' : 'line',
      maxLines: c.get<number>('inlineCompletion.maxLines', 8),
      maxNewTokens: c.get<number>('inlineCompletion.maxNewTokens', 16),
      temperature: c.get<number>('inlineCompletion.temperature', 0),
      debounceMs: c.get<number>('inlineCompletion.debounceMs', 75),
    },
    hubBaseUrl: c.get<string>('download.hubUrl', ''),
    modelsFolder: c.get<string>('download.modelsFolder', ''),
  };
}
