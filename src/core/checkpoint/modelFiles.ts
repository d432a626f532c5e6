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
import type { BpeModel } from '../tokenizer/bpeModel';
import { writeTokenizerFiles } from '../tokenizer/files';
import { assertLoadingFits } from '../model/memory';
import { writeDirAtomic, writeJsonAtomic } from './atomic';
import { CONFIG_FILE, exists, findCheckpoint, WEIGHTS_FILE } from './layout';
import type { LlmLabMeta } from './hfConfig';
import { fromHfConfig, toHfConfig } from './hfConfig';
import type { TensorToWrite } from './safetensors';
import { readSafetensors, readSafetensorsHeader, writeSafetensors } from './safetensors';

export { CONFIG_FILE, WEIGHTS_FILE, CHECKPOINTS_DIR, stepDirName, listCheckpoints, findCheckpoint, isModelFolder, checkpointStep } from './layout';

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
 * Saves a model as `dir/config.json` + `dir/model.safetensors`, and `bpe`, the model's own trained tokenizer,
 * beside them when it has one. The folder is built beside `dir` and renamed into place, so a crash mid-save
 * leaves the previous contents of `dir` whole.
 */
export async function saveModel(dir: string, model: GptModel, extra: Partial<LlmLabMeta> = {}, bpe?: BpeModel): Promise<void> {
  await writeDirAtomic(path.resolve(dir), async (tmp) => {
    await writeModelFiles(tmp, model, extra);
    if (bpe) await writeTokenizerFiles(tmp, bpe);
  });
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
  if (name === 'score.weight') return undefined; // a classifier's head (core/classify reads it); the body loads alone
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
  for (const [name, t] of tensors) {
    const bad = firstNonFinite(t.data);
    if (bad >= 0) {
      throw new LlmLabError(
        'bad-checkpoint',
        `${weightsFile}: weight '${name}' holds ${t.data[bad]} at index ${bad}; a model with NaN or infinite weights only produces garbage (a corrupted file or a diverged run). Use an earlier checkpoint.`,
      );
    }
  }
  const made = new Map<string, tf.Tensor>();
  for (const [name, t] of tensors) made.set(name, tf.tensor(t.data, t.shape, 'float32'));
  try {
    const model = GptModel.fromTensors(config, made);
    return { model, config, meta, dir };
  } finally {
    tf.dispose([...made.values()]); // the model's variables keep their own reference to the data
  }
}

/** Index of the first NaN or ±Infinity in `data`, or -1. */
function firstNonFinite(data: Float32Array): number {
  for (let i = 0; i < data.length; i++) if (data[i] - data[i] !== 0) return i; // NaN - NaN and Inf - Inf are NaN
  return -1;
}

/**
 * Refuses a loaded classifier where a language model is needed (generation, evaluation, asking): its body loads,
 * but it has no trained head for next tokens. `next` says what to do instead.
 */
export function requireLanguageModel(loaded: Pick<LoadedModel, 'meta' | 'dir'>, next: string): void {
  const labels = loaded.meta.classifierLabels;
  if (!labels) return;
  throw new LlmLabError(
    'bad-argument',
    `${loaded.dir} is a classifier (classes ${labels.join(', ')}), not a language model: it has no trained head for next tokens. ${next}`,
  );
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
