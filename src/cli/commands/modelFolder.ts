// Opening the model a command names with --model: our run folders (their latest checkpoint), our model
// folders, and any folder holding a GPT-2 config.json + model.safetensors; plus the tokenizer it was trained with.
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import type { LlmLabMeta, LoadedModel } from '../../core/checkpoint';
import { CONFIG_FILE, findCheckpoint, fromHfConfig, modelTokenizer, requireLanguageModel } from '../../core/checkpoint';
import type { AdapterSummary } from '../../core/lora';
import { findAdapterFolder, loadAnyModel, readAdapterMeta } from '../../core/lora';
import { LlmLabError } from '../../core/errors';
import type { GptConfig } from '../../core/model/config';
import type { Tokenizer } from '../../core/tokenizer';
import type { CliIo } from '../io';

async function checkFolder(io: CliIo, dir: string): Promise<string> {
  const abs = path.resolve(io.cwd, dir);
  let isDir = false;
  try {
    isDir = (await fsp.stat(abs)).isDirectory();
  } catch {
    throw new LlmLabError('not-found', `Model folder ${abs} does not exist; check the --model path.`);
  }
  if (!isDir) throw new LlmLabError('bad-argument', `--model ${abs} is a file; give the folder that holds config.json and model.safetensors.`);
  return abs;
}

/**
 * Loads a model and its tokenizer; the caller disposes the model. A LoRA adapter folder loads its base (checked
 * against the adapter's fingerprint) with the adapters attached; the adapter's prompt style wins over the base's.
 */
export async function openModel(io: CliIo, dir: string): Promise<LoadedModel & { tokenizer: Tokenizer; adapter?: AdapterSummary }> {
  const loaded = await loadAnyModel(await checkFolder(io, dir));
  try {
    requireLanguageModel(loaded, `Use 'llm-lab classify --model ${dir} --text …', or give the language model it was fine-tuned from.`);
    return { ...loaded, tokenizer: modelTokenizer(loaded) };
  } catch (e) {
    loaded.model.dispose();
    throw e;
  }
}

/** A model folder's config only (no weights read): for `info`. */
export async function readModelConfig(io: CliIo, dir: string): Promise<{ config: GptConfig; dir: string; meta?: LlmLabMeta }> {
  const abs = await checkFolder(io, dir);
  const adapter = await findAdapterFolder(abs);
  if (adapter) {
    // A LoRA adapter (or a LoRA run's latest checkpoint): its base's shape; a classifier's adapter names its classes.
    const m = await readAdapterMeta(adapter);
    const made = m.classifier as { labels?: string[]; trainableParameters?: number } | undefined;
    if (!made?.labels) return { config: m.base.config, dir: adapter };
    const meta: LlmLabMeta = {
      formatVersion: 1, qkvBias: m.base.config.qkvBias, tokenizer: m.tokenizer, classifierLabels: made.labels,
      classifier: { trainable: 'lora', trainableParameters: made.trainableParameters },
    };
    return { config: m.base.config, dir: adapter, meta };
  }
  const found = await findCheckpoint(abs);
  if (!found) {
    throw new LlmLabError('bad-checkpoint', `${abs} has no ${CONFIG_FILE} and no training checkpoints; point --model at a model folder or a run folder.`);
  }
  const file = path.join(found, CONFIG_FILE);
  let raw: unknown;
  try {
    raw = JSON.parse(await fsp.readFile(file, 'utf8'));
  } catch {
    throw new LlmLabError('bad-checkpoint', `${file} is not valid JSON; restore it or save the model again.`);
  }
  const { config, meta } = fromHfConfig(file, raw);
  return { config, dir: found, meta };
}
