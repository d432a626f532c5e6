// Where a model and a training run keep their files, known here and nowhere else: a model folder holds
// config.json + model.safetensors; a run folder keeps its step checkpoints in checkpoints/step-000123/, and
// "latest" is the highest step. describeFolder is the one rule for what a folder is (a model, a LoRA adapter, a
// run, something else, or a model and a run at once, which is refused); the CLI, the worker and the extension
// all ask it. No TensorFlow.js here, so the extension can read a run's layout too.
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { LlmLabError } from '../errors';

export const CONFIG_FILE = 'config.json';
export const WEIGHTS_FILE = 'model.safetensors';
/** Folder of a run that holds its step checkpoints, each `step-000123`. */
export const CHECKPOINTS_DIR = 'checkpoints';
/** A run's record: the task, its resolved options, the data fingerprint. */
export const RUN_FILE = 'run.json';
/** A run's events, one JSON line each. */
export const METRICS_FILE = 'metrics.jsonl';
/** Present while a process trains the run (see core/train/runLock). */
export const LOCK_FILE = 'run.lock';
/** What the extension asked a run to train on (so the editor can resume it). */
export const JOB_FILE = 'job.json';
/** A run's copy of the trained tokenizer it uses. */
export const RUN_TOKENIZER_DIR = 'tokenizer';

/** Name of the checkpoint folder of an optimizer step: `step-000123`. */
export function stepDirName(step: number): string {
  return `step-${String(step).padStart(6, '0')}`;
}

/** Whether a path exists. */
export async function exists(p: string): Promise<boolean> {
  try {
    await fsp.stat(p);
    return true;
  } catch {
    return false;
  }
}

/** Complete step checkpoints of a run's `checkpoints/` folder, oldest first (temporary folders are skipped). */
export async function listCheckpoints(checkpointsDir: string): Promise<{ step: number; dir: string }[]> {
  let names: string[];
  try {
    names = await fsp.readdir(checkpointsDir);
  } catch {
    return [];
  }
  return names
    .map((n) => /^step-(\d+)$/.exec(n))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ step: Number(m[1]), dir: path.join(checkpointsDir, m[0]) }))
    .sort((a, b) => a.step - b.step);
}

/** A LoRA adapter folder (see core/lora): its description and its A/B tensors, apart from the base model. */
export const ADAPTER_CONFIG_FILE = 'adapter.json';
export const ADAPTER_WEIGHTS_FILE = 'adapter.safetensors';

/** Whether `dir` holds a LoRA adapter (an adapter.json). */
export async function isAdapterFolder(dir: string): Promise<boolean> {
  return exists(path.join(dir, ADAPTER_CONFIG_FILE));
}

/** Whether `dir` holds something that runs as a model: a saved model or a LoRA adapter over one. */
export async function isRunnableModel(dir: string): Promise<boolean> {
  return (await isModelFolder(dir)) || ((await isAdapterFolder(dir)) && (await exists(path.join(dir, ADAPTER_WEIGHTS_FILE))));
}

/** Whether `dir` holds a saved model: config.json and model.safetensors. */
export async function isModelFolder(dir: string): Promise<boolean> {
  return (await exists(path.join(dir, CONFIG_FILE))) && (await exists(path.join(dir, WEIGHTS_FILE)));
}

/** For a run's step checkpoint (`<run>/checkpoints/step-000123`), the run folder and the step; else undefined. */
export function checkpointStep(dir: string): { runDir: string; step: number } | undefined {
  const m = /^step-(\d+)$/.exec(path.basename(dir));
  const parent = path.dirname(dir);
  if (!m || path.basename(parent) !== CHECKPOINTS_DIR) return undefined;
  return { runDir: path.dirname(parent), step: Number(m[1]) };
}

/** What a folder is, by the one rule LLM Lab applies everywhere. */
export type FolderKind =
  | 'missing' // nothing there
  | 'file' // a file, not a folder
  | 'empty' // an empty folder (or one with a run lock alone)
  | 'pending' // only what the editor writes before a run starts (job.json): a run with nothing trained yet
  | 'run' // a training run: run.json and/or checkpoints/step-*
  | 'model' // a saved model (a classifier too): config.json and/or model.safetensors at the top
  | 'adapter' // a LoRA adapter: adapter.json at the top
  | 'ambiguous' // a model (or adapter) and a run at once: which one is meant cannot be told
  | 'other'; // anything else: files LLM Lab did not make

export interface FolderInfo {
  kind: FolderKind;
  /** Names at the top of the folder (empty unless it is a folder). */
  entries: string[];
  /** The run's complete step checkpoints, oldest first. */
  checkpoints: { step: number; dir: string }[];
  /** Whether it has a run record (run.json). */
  hasRecord: boolean;
  /** Model or adapter files at the top, e.g. ['config.json', 'model.safetensors']. */
  modelFiles: string[];
}

/** Decides what `dir` is (see FolderKind); only reads. */
export async function describeFolder(dir: string): Promise<FolderInfo> {
  const none = { entries: [], checkpoints: [], hasRecord: false, modelFiles: [] };
  let st;
  try {
    st = await fsp.stat(dir);
  } catch {
    return { kind: 'missing', ...none };
  }
  if (!st.isDirectory()) return { kind: 'file', ...none };
  const entries = (await fsp.readdir(dir)).sort();
  const has = new Set(entries);
  const checkpoints = has.has(CHECKPOINTS_DIR) ? await listCheckpoints(path.join(dir, CHECKPOINTS_DIR)) : [];
  const hasRecord = has.has(RUN_FILE);
  const modelFiles = [CONFIG_FILE, WEIGHTS_FILE, ADAPTER_CONFIG_FILE].filter((n) => has.has(n));
  const info = { entries, checkpoints, hasRecord, modelFiles };
  const run = hasRecord || checkpoints.length > 0;
  if (run && modelFiles.length > 0) return { kind: 'ambiguous', ...info };
  if (run) return { kind: 'run', ...info };
  if (has.has(ADAPTER_CONFIG_FILE)) return { kind: 'adapter', ...info };
  if (modelFiles.length > 0) return { kind: 'model', ...info };
  const rest = entries.filter((n) => n !== LOCK_FILE); // a lock alone says only that a run is being set up
  if (rest.length === 0) return { kind: 'empty', ...info };
  if (rest.every((n) => n === JOB_FILE)) return { kind: 'pending', ...info };
  return { kind: 'other', ...info };
}

/** `names` as a short list for a message: "a.txt, b/, c.md and 4 more". */
export function listForMessage(names: readonly string[], max = 3): string {
  const shown = names.slice(0, max).join(', ');
  return names.length > max ? `${shown} and ${names.length - max} more` : shown;
}

/** The error for a folder that holds a model and a training run at once. */
export function ambiguousFolderError(dir: string, info: FolderInfo): LlmLabError {
  const run = [info.hasRecord ? RUN_FILE : '', info.checkpoints.length > 0 ? `${CHECKPOINTS_DIR}/` : ''].filter(Boolean).join(' and ');
  const latest = info.checkpoints[info.checkpoints.length - 1];
  const pick = latest ? `name the run's checkpoint (${latest.dir}) or ` : '';
  return new LlmLabError(
    'bad-checkpoint',
    `${dir} holds both a model (${info.modelFiles.join(', ')}) and a training run (${run}), so which one is meant cannot be told; ` +
      `${pick}move the model files or the run into a folder of their own.`,
  );
}

/**
 * The checkpoint folder `dir` stands for: `dir` itself when it holds a config.json, else the latest
 * `step-*` folder under `dir/checkpoints/` (a run folder) or under `dir` (a checkpoints folder).
 * Undefined when there is none. A folder that is a model and a run at once is refused (ambiguousFolderError).
 */
export async function findCheckpoint(dir: string): Promise<string | undefined> {
  const info = await describeFolder(dir);
  if (info.kind === 'ambiguous') throw ambiguousFolderError(dir, info);
  if (info.entries.includes(CONFIG_FILE)) return dir;
  for (const sub of [path.join(dir, CHECKPOINTS_DIR), dir]) {
    const all = await listCheckpoints(sub);
    if (all.length > 0) return all[all.length - 1].dir;
  }
  return undefined;
}

