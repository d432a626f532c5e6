// Typed reads of the `llmLab.*` settings declared in package.json. The defaults live in the manifest,
// which VS Code applies, and nowhere here; the training ones are core's (PRETRAIN_DEFAULTS and the corpus
// size cap), and a unit test holds the manifest to them.
import * as vscode from 'vscode';
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
}

/** Each setting's key under `llmLab.` and its type. */
const KEYS: { readonly [K in keyof LabSettings]: string } = {
  encoding: 'tokenizer.encoding',
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
  maxNewTokens: 'generate.maxNewTokens',
  temperature: 'generate.temperature',
  topK: 'generate.topK',
};

export function readSettings(scope?: vscode.ConfigurationScope): LabSettings {
  const c = vscode.workspace.getConfiguration('llmLab', scope);
  const out = {} as Record<keyof LabSettings, unknown>;
  for (const [field, key] of Object.entries(KEYS) as [keyof LabSettings, string][]) out[field] = c.get(key);
  return out as LabSettings;
}
