// A classifier on disk, in Hugging Face's GPT2ForSequenceClassification layout, so transformers loads ours and
// hub GPT-2 classifiers load here: model.safetensors holds the body as `transformer.*` and the head as
// `score.weight` [classes, width]; config.json is GPT-2's with architectures ["GPT2ForSequenceClassification"],
// id2label, label2id and pad_token_id (the end-of-text token we pad with; a classifier finds each text's last
// real token by its length, and transformers by the last token that is not padding).
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import type { LoadedModel } from '../checkpoint/modelFiles';
import { loadModelFrom } from '../checkpoint/modelFiles';
import { CONFIG_FILE, exists, findCheckpoint, WEIGHTS_FILE } from '../checkpoint/layout';
import { findAdapterFolder, readAdapterMeta } from '../lora/files';
import type { LlmLabMeta } from '../checkpoint/hfConfig';
import { isClassifierConfig, toHfConfig } from '../checkpoint/hfConfig';
import { modelTokenizer } from '../checkpoint/modelTokenizer';
import type { TensorToWrite } from '../checkpoint/safetensors';
import { readSafetensors, writeSafetensors } from '../checkpoint/safetensors';
import { writeJsonAtomic } from '../checkpoint/atomic';
import { tf } from '../engine';
import { LlmLabError } from '../errors';
import { parameterShapes } from '../model/gpt';
import type { Tokenizer } from '../tokenizer';
import { Classifier, SCORE_WEIGHT } from './model';
import type { TrainableChoice } from './model';
import { classifierInfoOf, loadAdaptedClassifier } from './lora';

export const CLASSIFIER_ARCHITECTURE = 'GPT2ForSequenceClassification';

/** What config.json's llm_lab.classifier records about how the classifier was made. */
export interface ClassifierMeta {
  /** What trained ('head', 'last-block', 'last-N', 'all'; 'lora' for adapters over a frozen base). */
  trainable: TrainableChoice | 'lora';
  trainableParameters: number;
  /** Length texts were cut to in training (tokens). */
  maxLength: number;
}

/** Writes config.json and model.safetensors of a classifier into an existing folder (each file atomically). */
export async function writeClassifierFiles(dir: string, c: Classifier, padId: number, meta: ClassifierMeta, extra: Partial<LlmLabMeta> = {}): Promise<void> {
  const config = c.body.config;
  const tensors: TensorToWrite[] = [];
  for (const [name, shape] of parameterShapes({ ...config, qkvBias: true, tiedHead: true })) {
    const v = c.body.params.get(name);
    const data = v ? ((await v.data()) as Float32Array) : new Float32Array(shape.reduce((a, b) => a * b, 1)); // qkv bias off: zeros
    tensors.push({ name: `transformer.${name}`, shape, data });
  }
  tensors.push({ name: SCORE_WEIGHT, shape: c.score.shape, data: (await c.score.data()) as Float32Array });
  await writeSafetensors(path.join(dir, WEIGHTS_FILE), tensors, { format: 'pt' });
  const { classifierLabels: _drop, ...ours } = extra;
  const hf = toHfConfig({ ...config, tiedHead: true }, { ...ours, classifier: meta });
  const id2label: Record<string, string> = {};
  const label2id: Record<string, number> = {};
  c.labels.forEach((l, i) => {
    id2label[String(i)] = l;
    label2id[l] = i;
  });
  await writeJsonAtomic(path.join(dir, CONFIG_FILE), { ...hf, architectures: [CLASSIFIER_ARCHITECTURE], id2label, label2id, pad_token_id: padId });
}

export interface LoadedClassifierWeights extends LoadedModel {
  classifier: Classifier;
  labels: string[];
  /** How it was trained, when LLM Lab made it. */
  classifierMeta?: ClassifierMeta;
}

export interface LoadedClassifier extends LoadedClassifierWeights {
  tokenizer: Tokenizer;
}

/** Whether `dir` (a checkpoint or run folder) holds a classifier. */
export async function isClassifierFolder(dir: string): Promise<boolean> {
  const adapter = await findAdapterFolder(dir);
  if (adapter) {
    try {
      return classifierInfoOf(await readAdapterMeta(adapter)) !== undefined;
    } catch {
      return false;
    }
  }
  const found = await findCheckpoint(path.resolve(dir));
  if (!found) return false;
  try {
    return isClassifierConfig(JSON.parse(await fsp.readFile(path.join(found, CONFIG_FILE), 'utf8')));
  } catch {
    return false;
  }
}

/**
 * Loads a classifier and the tokenizer it reads texts with: one of ours (a run folder's latest checkpoint, or a
 * checkpoint folder) or any Hugging Face GPT2ForSequenceClassification folder.
 */
export async function loadClassifier(dir: string): Promise<LoadedClassifier> {
  const w = await loadClassifierWeights(dir);
  try {
    return { ...w, tokenizer: modelTokenizer(w) };
  } catch (e) {
    w.classifier.dispose();
    throw e;
  }
}

/**
 * Loads a classifier's weights (no tokenizer): one of ours (a run folder's latest checkpoint, or a checkpoint folder;
 * a LoRA classifier's adapter folder or run over its base) or any Hugging Face GPT2ForSequenceClassification folder. Refuses a model without a classification head, saying what to do.
 */
export async function loadClassifierWeights(dir: string): Promise<LoadedClassifierWeights> {
  const abs = path.resolve(dir);
  if (!(await exists(abs))) throw new LlmLabError('not-found', `Model folder ${abs} does not exist; check the path.`);
  if (await findAdapterFolder(abs)) {
    const a = await loadAdaptedClassifier(abs);
    const classifierMeta: ClassifierMeta = { trainable: 'lora', trainableParameters: a.info.trainableParameters, maxLength: a.info.maxLength };
    return { model: a.model, config: a.config, meta: a.meta, dir: a.dir, classifier: a.classifier, labels: a.labels, classifierMeta };
  }
  const found = await findCheckpoint(abs);
  if (!found) throw new LlmLabError('bad-checkpoint', `${abs} has no ${CONFIG_FILE} and no training checkpoints; point at a classifier's folder or its run folder.`);
  const loaded = await loadModelFrom(found);
  try {
    const labels = loaded.meta.classifierLabels;
    if (!labels) {
      throw new LlmLabError(
        'bad-argument',
        `${found} holds a language model, not a classifier (its config.json does not name ${CLASSIFIER_ARCHITECTURE}); fine-tune one with 'llm-lab finetune classify --model ${dir} …'.`,
      );
    }
    const file = path.join(found, WEIGHTS_FILE);
    const { tensors } = await readSafetensors(file, (n) => (n === SCORE_WEIGHT ? n : undefined));
    const score = tensors.get(SCORE_WEIGHT);
    if (!score) throw new LlmLabError('bad-checkpoint', `${file} has no '${SCORE_WEIGHT}' tensor, which a classifier needs; save or download it again.`);
    const C = loaded.config.embDim;
    if (score.shape.length !== 2 || score.shape[0] !== labels.length || score.shape[1] !== C) {
      throw new LlmLabError(
        'bad-checkpoint',
        `${file}: '${SCORE_WEIGHT}' has shape [${score.shape}] but config.json's ${labels.length} classes and width ${C} need [${labels.length}, ${C}]; the files do not belong together.`,
      );
    }
    for (let i = 0; i < score.data.length; i++) {
      if (!Number.isFinite(score.data[i])) throw new LlmLabError('bad-checkpoint', `${file}: '${SCORE_WEIGHT}' holds ${score.data[i]} at index ${i}; use an earlier checkpoint.`);
    }
    const classifier = new Classifier(loaded.model, tf.variable(tf.tensor2d(score.data, [labels.length, C]), true), labels);
    const m = (loaded.meta as { classifier?: ClassifierMeta }).classifier;
    return { ...loaded, classifier, labels, ...(m ? { classifierMeta: m } : {}) };
  } catch (e) {
    loaded.model.dispose();
    throw e;
  }
}
