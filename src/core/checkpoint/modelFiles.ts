// Saving and loading a GPT model as a Hugging Face style folder: config.json + model.safetensors (float32, GPT-2
// tensor names without a prefix, c_attn weights stored [in, out]). Loading also takes folders from the Hugging
// Face hub: names with a `transformer.` prefix, the `attn.bias` / `attn.masked_bias` buffers of old files,
// float16 / bfloat16 weights, an untied `lm_head.weight`. A training run folder loads its latest checkpoint.
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { tf } from '../engine';
import { LlmLabError } from '../errors';
import type { GptConfig } from '../model/config';
import { GptModel, parameterShapes } from '../model/gpt';
import { assertLoadingFits } from '../model/memory';
import { writeDirAtomic, writeJsonAtomic } from './atomic';
import type { LlmLabMeta } from './hfConfig';
import { fromHfConfig, toHfConfig } from './hfConfig';
import type { TensorToWrite } from './safetensors';
import { readSafetensors, readSafetensorsHeader, writeSafetensors } from './safetensors';

export const CONFIG_FILE = 'config.json';
export const WEIGHTS_FILE = 'model.safetensors';
/** Folder of a run that holds its step checkpoints, each `step-000123`. */
export const CHECKPOINTS_DIR = 'checkpoints';

/** Name of the checkpoint folder of an optimizer step: `step-000123`. */
export function stepDirName(step: number): string {
  return `step-${String(step).padStart(6, '0')}`;
}

async function exists(p: string): Promise<boolean> {
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

/**
 * The model's weights as float32 tensors in the written order; a zero c_attn.bias when the model has none.
 * A tied model's names have no prefix (as openai-community/gpt2's file); an untied one's body is written under
 * `transformer.` beside `lm_head.weight`, as transformers' save_pretrained does, because transformers refuses
 * an unprefixed file that also holds a head tensor.
 */
async function tensorsToWrite(model: GptModel): Promise<TensorToWrite[]> {
  const c = model.config;
  const prefix = c.tiedHead ? '' : 'transformer.';
  const out: TensorToWrite[] = [];
  for (const [name, shape] of parameterShapes({ ...c, qkvBias: true })) {
    const stored = name === 'lm_head.weight' ? name : prefix + name;
    const v = model.params.get(name);
    if (v) out.push({ name: stored, shape, data: (await v.data()) as Float32Array });
    else out.push({ name: stored, shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) }); // qkv bias off: zeros
  }
  return out;
}

/** Writes config.json and model.safetensors into an existing folder (each file atomically). */
export async function writeModelFiles(dir: string, model: GptModel, extra: Partial<LlmLabMeta> = {}): Promise<void> {
  await writeSafetensors(path.join(dir, WEIGHTS_FILE), await tensorsToWrite(model), { format: 'pt' });
  await writeJsonAtomic(path.join(dir, CONFIG_FILE), toHfConfig(model.config, extra));
}

/**
 * Saves a model as `dir/config.json` + `dir/model.safetensors`. The folder is built beside `dir` and renamed
 * into place, so a crash mid-save leaves the previous contents of `dir` whole.
 */
export async function saveModel(dir: string, model: GptModel, extra: Partial<LlmLabMeta> = {}): Promise<void> {
  await writeDirAtomic(path.resolve(dir), (tmp) => writeModelFiles(tmp, model, extra));
}

export interface LoadedModel {
  model: GptModel;
  config: GptConfig;
  /** Our config.json fields (defaults for a foreign GPT-2 folder). */
  meta: LlmLabMeta;
  /** The checkpoint folder actually read (the latest step folder for a run folder). */
  dir: string;
}

/** Maps a stored tensor name to our parameter name, or undefined for buffers we ignore. */
function paramName(stored: string, config: GptConfig): string | undefined {
  const name = stored.startsWith('transformer.') ? stored.slice('transformer.'.length) : stored;
  if (/^h\.\d+\.attn\.(bias|masked_bias)$/.test(name)) return undefined; // causal-mask buffers of old files
  if (!config.qkvBias && /^h\.\d+\.attn\.c_attn\.bias$/.test(name)) return undefined; // zeros we wrote for transformers
  if (config.tiedHead && name === 'lm_head.weight') return undefined; // a copy of wte in some tied files
  return name;
}

export interface LoadOptions {
  /** The machine's memory for the check made before anything is read (default: os.totalmem()). */
  machineBytes?: number;
}

/**
 * Reads the config and weights of one checkpoint folder into a new model. A model that will not fit in memory is
 * refused from its config alone, before the weights are read.
 */
export async function loadModelFrom(dir: string, options: LoadOptions = {}): Promise<LoadedModel> {
  const configFile = path.join(dir, CONFIG_FILE);
  const weightsFile = path.join(dir, WEIGHTS_FILE);
  let text: string;
  try {
    text = await fsp.readFile(configFile, 'utf8');
  } catch {
    throw new LlmLabError('bad-checkpoint', `${configFile} is missing; a model folder needs config.json and model.safetensors.`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new LlmLabError('bad-checkpoint', `${configFile} is not valid JSON; restore it or save the model again.`);
  }
  const { config, meta } = fromHfConfig(configFile, raw);
  assertLoadingFits(config, `The model in ${dir}`, options.machineBytes);
  if (!(await exists(weightsFile))) {
    const bin = await exists(path.join(dir, 'pytorch_model.bin'));
    throw new LlmLabError(
      'bad-checkpoint',
      `${weightsFile} is missing` +
        (bin ? ' (the folder has only pytorch_model.bin, which LLM Lab cannot read; convert it to safetensors).' : '; a model folder needs config.json and model.safetensors.'),
    );
  }
  const header = await readSafetensorsHeader(weightsFile);
  const shapes = parameterShapes(config);
  const found = new Set<string>();
  for (const [stored, entry] of header.tensors) {
    const name = paramName(stored, config);
    if (name === undefined) continue;
    const want = shapes.get(name);
    if (!want) {
      throw new LlmLabError(
        'bad-checkpoint',
        `${weightsFile}: tensor '${stored}' is not part of the model that config.json describes (${config.nLayers} layers); the files do not belong together.`,
      );
    }
    if (want.join(',') !== entry.shape.join(',')) {
      throw new LlmLabError(
        'bad-checkpoint',
        `${weightsFile}: tensor '${stored}' has shape [${entry.shape}] but config.json needs [${want}]; the files do not belong together.`,
      );
    }
    found.add(name);
  }
  const missing = [...shapes.keys()].filter((n) => !found.has(n));
  if (missing.length > 0) {
    throw new LlmLabError(
      'bad-checkpoint',
      `${weightsFile} lacks ${missing.length} tensor(s) the model needs (first: '${missing[0]}'); save or download the checkpoint again.`,
    );
  }
  const { tensors } = await readSafetensors(weightsFile, (stored) => paramName(stored, config));
  const made = new Map<string, tf.Tensor>();
  for (const [name, t] of tensors) made.set(name, tf.tensor(t.data, t.shape, 'float32'));
  try {
    const model = GptModel.fromTensors(config, made);
    return { model, config, meta, dir };
  } finally {
    tf.dispose([...made.values()]); // the model's variables keep their own reference to the data
  }
}

/**
 * Loads a model from a checkpoint folder (config.json + model.safetensors, ours or a Hugging Face GPT-2 one)
 * or from a training run folder, whose latest checkpoint it reads.
 */
export async function loadModel(dir: string, options: LoadOptions = {}): Promise<LoadedModel> {
  const abs = path.resolve(dir);
  if (!(await exists(abs))) throw new LlmLabError('not-found', `Model folder ${abs} does not exist; check the path.`);
  const found = await findCheckpoint(abs);
  if (!found) {
    throw new LlmLabError(
      'bad-checkpoint',
      `${path.join(abs, CONFIG_FILE)} is missing and ${abs} holds no training checkpoints; point at a folder with config.json and model.safetensors, or at a training run folder.`,
    );
  }
  return loadModelFrom(found, options);
}
