// Where a model and a training run keep their files, known here and nowhere else: a model folder holds
// config.json + model.safetensors; a run folder keeps its step checkpoints in checkpoints/step-000123/, and
// "latest" is the highest step. No TensorFlow.js here, so the extension can read a run's layout too.
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';

export const CONFIG_FILE = 'config.json';
export const WEIGHTS_FILE = 'model.safetensors';
/** Folder of a run that holds its step checkpoints, each `step-000123`. */
export const CHECKPOINTS_DIR = 'checkpoints';

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

/**
 * The checkpoint folder `dir` stands for: `dir` itself when it holds a config.json, else the latest
 * `step-*` folder under `dir/checkpoints/` (a run folder) or under `dir` (a checkpoints folder).
 * Undefined when there is none.
 */
export async function findCheckpoint(dir: string): Promise<string | undefined> {
  if (await exists(path.join(dir, CONFIG_FILE))) return dir;
  for (const sub of [path.join(dir, CHECKPOINTS_DIR), dir]) {
    const all = await listCheckpoints(sub);
    if (all.length > 0) return all[all.length - 1].dir;
  }
  return undefined;
}

