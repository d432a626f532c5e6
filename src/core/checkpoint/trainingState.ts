// Training checkpoints of a run folder: `<run>/checkpoints/step-000123/` holds the model (config.json +
// model.safetensors) and beside it the state to resume from: `training_state.safetensors` (the optimizer's
// tensors, e.g. AdamW moments) and `training_state.json` (step, data-sampler state, run options, best
// validation loss). Each step folder is built under a temporary name and renamed when complete, so a crash
// mid-save leaves the earlier checkpoints as they were and never a folder that mixes two steps.
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import type { tf } from '../engine';
import { LlmLabError } from '../errors';
import type { GptModel } from '../model/gpt';
import type { BpeModel } from '../tokenizer/bpeModel';
import { TRAINED_TOKENIZER } from '../tokenizer/bpeModel';
import { writeTokenizerFiles } from '../tokenizer/files';
import { removeLeftovers, writeDirAtomic, writeJsonAtomic } from './atomic';
import { CHECKPOINTS_DIR, listCheckpoints, stepDirName, writeModelFiles } from './modelFiles';
import type { LoadedTensor, TensorToWrite } from './safetensors';
import { readSafetensors, writeSafetensors } from './safetensors';

export const STATE_TENSORS_FILE = 'training_state.safetensors';
export const STATE_JSON_FILE = 'training_state.json';
export const TRAINING_STATE_VERSION = 1;

export interface SaveTrainingCheckpointOptions {
  /** Optimizer step the checkpoint is of; names the folder. */
  step: number;
  /** The model to write (config.json + model.safetensors); give this or `writeModel`. */
  model?: GptModel;
  /** Writes the model's files into the folder, for models saved in another layout (a classifier); instead of `model`. */
  writeModel?: (dir: string) => Promise<void>;
  /** Optimizer tensors by name (written to training_state.safetensors as float32). */
  optimizerTensors: Map<string, tf.Tensor>;
  /** JSON-able state (step, sampler, options...); `formatVersion` is added. */
  state: Record<string, unknown>;
  /** Keep only this many most recent step folders (default 2; 0 keeps all), and the best-scored one besides. */
  keepLast?: number;
  /**
   * How good this checkpoint is, lower is better (the validation loss): pruning never removes the step folder
   * with the lowest score, so an exploding run cannot push its best checkpoint out. Saved as `score` in
   * training_state.json.
   */
  score?: number;
  /** A trained tokenizer the model uses: its files go beside config.json, which names it 'trained'. */
  tokenizer?: BpeModel;
}

/** Writes `<runDir>/checkpoints/step-N/` completely, then removes older step folders beyond `keepLast`. */
export async function saveTrainingCheckpoint(runDir: string, o: SaveTrainingCheckpointOptions): Promise<string> {
  const root = path.join(path.resolve(runDir), CHECKPOINTS_DIR);
  const dir = path.join(root, stepDirName(o.step));
  const tensors: TensorToWrite[] = [];
  for (const [name, t] of o.optimizerTensors) {
    tensors.push({ name, shape: t.shape, data: (await t.data()) as Float32Array });
  }
  await writeDirAtomic(dir, async (tmp) => {
    if (o.writeModel) await o.writeModel(tmp);
    else if (o.model) await writeModelFiles(tmp, o.model, { step: o.step, ...(o.tokenizer ? { tokenizer: TRAINED_TOKENIZER } : {}) });
    else throw new Error('saveTrainingCheckpoint needs a model or a writeModel function');
    if (o.tokenizer) await writeTokenizerFiles(tmp, o.tokenizer);
    await writeSafetensors(path.join(tmp, STATE_TENSORS_FILE), tensors, { format: 'pt' });
    const score = o.score !== undefined && Number.isFinite(o.score) ? { score: o.score } : {};
    await writeJsonAtomic(path.join(tmp, STATE_JSON_FILE), { formatVersion: TRAINING_STATE_VERSION, ...o.state, ...score });
  });
  const keep = o.keepLast ?? 2;
  if (keep > 0) {
    const all = await listCheckpoints(root);
    const old = all.slice(0, Math.max(0, all.length - keep)).filter((c) => c.dir !== dir);
    if (old.length > 0) {
      const best = await bestScored(all);
      for (const c of old) if (c.dir !== best) await fsp.rm(c.dir, { recursive: true, force: true });
    }
  }
  await removeLeftovers(root, (name) => /^step-\d+$/.test(name));
  return dir;
}

/** The step folder with the lowest saved score (the latest of equals); undefined when none has a score. */
async function bestScored(checkpoints: readonly { dir: string }[]): Promise<string | undefined> {
  let best: { dir: string; score: number } | undefined;
  for (const c of checkpoints) {
    const score = await fsp
      .readFile(path.join(c.dir, STATE_JSON_FILE), 'utf8')
      .then((t) => (JSON.parse(t) as { score?: unknown }).score)
      .catch(() => undefined);
    if (typeof score === 'number' && Number.isFinite(score) && (!best || score <= best.score)) best = { dir: c.dir, score };
  }
  return best?.dir;
}

export interface LoadedTrainingState {
  state: Record<string, unknown>;
  optimizerTensors: Map<string, LoadedTensor>;
}

/** Reads the resume state of a step checkpoint folder; errors name the file and what to do. */
export async function loadTrainingState(checkpointDir: string): Promise<LoadedTrainingState> {
  const jsonFile = path.join(checkpointDir, STATE_JSON_FILE);
  let text: string;
  try {
    text = await fsp.readFile(jsonFile, 'utf8');
  } catch {
    throw new LlmLabError(
      'bad-checkpoint',
      `${jsonFile} is missing, so training cannot resume from ${checkpointDir} (it holds weights only); start a new run from it instead.`,
    );
  }
  let state: unknown;
  try {
    state = JSON.parse(text);
  } catch {
    throw new LlmLabError('bad-checkpoint', `${jsonFile} is not valid JSON; resume from an earlier checkpoint or start again.`);
  }
  if (typeof state !== 'object' || state === null || typeof (state as { step?: unknown }).step !== 'number') {
    throw new LlmLabError('bad-checkpoint', `${jsonFile} has no step number; resume from an earlier checkpoint or start again.`);
  }
  const version = (state as { formatVersion?: unknown }).formatVersion;
  if (typeof version === 'number' && version > TRAINING_STATE_VERSION) {
    throw new LlmLabError('bad-checkpoint', `${jsonFile} was written by a newer LLM Lab (state format ${version}); update LLM Lab.`);
  }
  const { tensors } = await readSafetensors(path.join(checkpointDir, STATE_TENSORS_FILE));
  return { state: state as Record<string, unknown>, optimizerTensors: tensors };
}
