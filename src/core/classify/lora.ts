// LoRA on a classifier (the book's appendix E applied to chapter 6). The body's linear layers get adapters beside
// their frozen weights. The new head is made like a full fine-tuning's; when `head` is among the targets (the
// default, as the book adapts every linear layer) it stays frozen at its first values and gets an adapter of its
// own, which gives the book's 2,666,528 trainable values for GPT-2 124M with two classes at rank 16; otherwise it
// trains whole. A checkpoint is an adapter folder over the base: adapter.json (with a `classifier` block: classes,
// what trained, the length texts are cut to) and adapter.safetensors holding the adapters and the head
// `score.weight`, since the base has no head. It loads onto its base (fingerprint checked), merges into a plain
// Hugging Face classifier folder, and travels to PEFT with the head as modules_to_save.
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { writeDirAtomic } from '../checkpoint/atomic';
import type { LoadedModel } from '../checkpoint/modelFiles';
import { loadModel } from '../checkpoint/modelFiles';
import { tf } from '../engine';
import { LlmLabError } from '../errors';
import type { AdapterMeta, LoraAdapters, LoraBase, LoraHead, PeftModule, ResolvedLoraOptions } from '../lora';
import {
  describeAdapters, exportPeft, fingerprintModel, findAdapterFolder, importPeftWith, loraTrainableCount, mergedHead, mergeLora, PEFT_CONFIG_FILE,
  readAdapterMeta, readAdapters, readSavedModules, writeAdapterFiles,
} from '../lora';
import type { GptConfig } from '../model/config';
import { GptModel } from '../model/gpt';
import { Classifier, SCORE_WEIGHT } from './model';

/** adapter.json's `classifier` block. */
export interface ClassifierAdapterInfo {
  /** Class names in head order. */
  labels: string[];
  /** 'adapter': the head stayed as made and its adapter trained; 'whole': the head trained in full. */
  head: 'adapter' | 'whole';
  /** Values that trained (adapters, plus the head when it trained whole). */
  trainableParameters: number;
  /** Length texts were cut to in training (tokens). */
  maxLength: number;
}

/** The head's adapter site: the class head (classes, width) stored as `score.weight`. */
export function classifierHead(classes: number): NonNullable<LoraHead> {
  return { outDim: classes, param: SCORE_WEIGHT };
}

/** Whether `lora` adapts the head (it then stays frozen) rather than training it whole. */
export function adaptsHead(lora: ResolvedLoraOptions): boolean {
  return lora.targets.includes('head');
}

/** Values a LoRA classification run trains on a body of `config` with `classes` outputs (before anything is made). */
export function classifierLoraCount(config: GptConfig, lora: ResolvedLoraOptions, classes: number): number {
  return loraTrainableCount(config, lora, classifierHead(classes)) + (adaptsHead(lora) ? 0 : classes * config.embDim);
}

/** What the training loop trains for a LoRA classifier: its parameters and adapters by name, the trained ones. */
export function classifierLoraParams(c: Classifier, adapters: LoraAdapters, lora: ResolvedLoraOptions): { params: Map<string, tf.Variable>; trainable: Set<string> } {
  const params = new Map(c.params);
  const vars = adapters.variables();
  for (const [name, v] of vars) {
    if (params.has(name)) throw new LlmLabError('bad-argument', `The adapter tensor '${name}' has the name of a model parameter.`);
    params.set(name, v);
  }
  const trainable = new Set(vars.keys());
  if (!adaptsHead(lora)) trainable.add(SCORE_WEIGHT);
  return { params, trainable };
}

/**
 * The classifier body of a base folder (a model, a run's latest checkpoint, a classifier's body): a separate
 * language-model head is left out, and the body gets `config`'s dropout when given.
 */
export async function loadClassifierBody(dir: string, config?: GptConfig): Promise<LoadedModel> {
  const loaded = await loadModel(dir);
  const body = loaded.model;
  const want: GptConfig = { ...body.config, tiedHead: true, ...(config ? { dropRate: config.dropRate } : {}) };
  if (body.config.tiedHead && body.config.dropRate === want.dropRate) return loaded;
  const tensors = new Map<string, tf.Tensor>([...body.params].filter(([n]) => n !== 'lm_head.weight'));
  const model = GptModel.fromTensors(want, tensors);
  body.dispose();
  return { ...loaded, model, config: want };
}

/** Writes a LoRA classifier's adapter folder files (adapter.json, adapter.safetensors with the head) into `dir`. */
export async function writeClassifierAdapter(
  dir: string,
  c: Classifier,
  adapters: LoraAdapters,
  base: LoraBase,
  lora: ResolvedLoraOptions,
  info: ClassifierAdapterInfo,
  extra: Partial<AdapterMeta> = {},
): Promise<void> {
  const meta = describeAdapters(adapters, { model: base.dir, fingerprint: base.fingerprint, config: c.body.config }, {
    ...extra, task: 'classify', classifier: info, targets: lora.targets, rank: lora.rank, alpha: lora.alpha,
  });
  await writeAdapterFiles(dir, adapters, meta, new Map([[SCORE_WEIGHT, c.score as tf.Tensor]]));
}

/** adapter.json's classifier block, when the adapter is a classifier's; undefined for a language model's. */
export function classifierInfoOf(meta: AdapterMeta): ClassifierAdapterInfo | undefined {
  const c = meta.classifier as Partial<ClassifierAdapterInfo> | undefined;
  if (!c) return undefined;
  if (!Array.isArray(c.labels) || c.labels.length < 2 || !c.labels.every((l) => typeof l === 'string') || (c.head !== 'adapter' && c.head !== 'whole')) {
    throw new LlmLabError('bad-checkpoint', `The adapter's classifier description (classes, head) is incomplete; save the adapter again.`);
  }
  return {
    labels: c.labels, head: c.head,
    trainableParameters: typeof c.trainableParameters === 'number' ? c.trainableParameters : 0,
    maxLength: typeof c.maxLength === 'number' ? c.maxLength : meta.base.config.contextLength,
  };
}

/** A LoRA classifier folder's head and adapters, read onto `body` (which must be the base they were made on). */
export async function readClassifierAdapter(dir: string, meta: AdapterMeta, body: GptModel): Promise<{ classifier: Classifier; adapters: LoraAdapters; info: ClassifierAdapterInfo }> {
  const info = classifierInfoOf(meta);
  if (!info) throw new LlmLabError('bad-argument', `${dir} is a language model's LoRA adapter, not a classifier's; use it with generate or ask.`);
  const modules = await readSavedModules(dir, meta);
  const score = modules.get(SCORE_WEIGHT);
  const K = info.labels.length;
  const C = body.config.embDim;
  if (!score || score.shape.join(',') !== `${K},${C}`) {
    throw new LlmLabError('bad-checkpoint', `${dir}: the classifier adapter needs its head '${SCORE_WEIGHT}' [${K}, ${C}] in adapter.safetensors${score ? `, not [${score.shape}]` : ''}; save the adapter again.`);
  }
  const adapters = await readAdapters(dir, meta, body.config);
  const scoreVar = tf.variable(tf.tensor2d(score.data, [K, C]), true);
  body.adapter = adapters;
  return { classifier: new Classifier(body, scoreVar, info.labels), adapters, info };
}

/** A classifier loaded from a LoRA adapter folder over its base. */
export interface LoadedAdaptedClassifier extends LoadedModel {
  classifier: Classifier;
  labels: string[];
  adapters: LoraAdapters;
  adapterMeta: AdapterMeta;
  /** The adapter folder. */
  adapterDir: string;
  info: ClassifierAdapterInfo;
}

/**
 * Loads a LoRA classifier: the adapter folder `dir` (or a LoRA run folder: its latest checkpoint), its base from
 * the folder adapter.json names (or `baseDir`), checked against the recorded fingerprint, the adapters attached
 * and the head. `dir` of the result is the base's folder (its tokenizer is the classifier's).
 */
export async function loadAdaptedClassifier(dir: string, baseDir?: string): Promise<LoadedAdaptedClassifier> {
  const abs = (await findAdapterFolder(dir)) ?? path.resolve(dir);
  const meta = await readAdapterMeta(abs);
  if (!classifierInfoOf(meta)) throw new LlmLabError('bad-argument', `${abs} is a language model's LoRA adapter, not a classifier's; use it with generate or ask.`);
  const baseAt = path.resolve(baseDir ?? meta.base.model);
  let loaded: LoadedModel;
  try {
    loaded = await loadClassifierBody(baseAt, meta.base.config);
  } catch (e) {
    if (e instanceof LlmLabError && e.code === 'not-found') {
      throw new LlmLabError('not-found', `The classifier adapter in ${abs} needs its base model ${baseAt}, which does not exist; restore it or give the base's new folder.`);
    }
    throw e;
  }
  try {
    const fp = await fingerprintModel(loaded.model);
    if (fp !== meta.base.fingerprint) {
      throw new LlmLabError(
        'bad-checkpoint',
        `The classifier adapter in ${abs} was trained on other base weights than those in ${baseAt} (fingerprint ${meta.base.fingerprint.slice(0, 19)}…, this base ${fp.slice(0, 19)}…); ` +
          `load it onto the base it was made with (${meta.base.model}).`,
      );
    }
    const r = await readClassifierAdapter(abs, meta, loaded.model);
    const meta2 = { ...loaded.meta, tokenizer: meta.tokenizer, classifierLabels: r.info.labels };
    return { ...loaded, meta: meta2, classifier: r.classifier, labels: r.info.labels, adapters: r.adapters, adapterMeta: meta, adapterDir: abs, info: r.info };
  } catch (e) {
    loaded.model.dispose();
    throw e;
  }
}

/** The head's values with its adapter's correction (the head itself without one), (classes, width). */
export async function effectiveHead(c: Classifier): Promise<Float32Array> {
  const W = (await c.score.data()) as Float32Array;
  const a = (c.body.adapter as LoraAdapters | undefined)?.bySite?.get('lm_head');
  if (!a) return W.slice();
  return mergedHead(W, (await a.A.data()) as Float32Array, (await a.B.data()) as Float32Array, { inDim: a.site.inDim, outDim: a.site.outDim, rank: a.rank, alpha: a.alpha });
}

/** A plain classifier whose logits equal `c` with its adapters: each adapted body matrix and the head merged. */
export async function mergeClassifier(c: Classifier, adapters: LoraAdapters): Promise<Classifier> {
  const head = await effectiveHead(c);
  const body = mergeLora(c.body, adapters, { skipHead: true });
  const K = c.labels.length;
  return new Classifier(body, tf.variable(tf.tensor2d(head, [K, body.config.embDim]), true), c.labels);
}

/** PEFT's module name of the head, and the safetensors metadata key of the class names. */
const PEFT_HEAD = 'score';
const PEFT_LABELS = 'llm_lab_labels';

/**
 * Writes a LoRA classifier's adapter folder in PEFT's layout (task SEQ_CLS): the body's adapters as LoRA weights
 * and the head as modules_to_save `score` (merged with its adapter when it has one). Needs no base.
 */
export async function exportClassifierPeft(dir: string, meta: AdapterMeta, outDir: string): Promise<{ sites: number; parameters: number }> {
  const info = classifierInfoOf(meta);
  if (!info) throw new LlmLabError('bad-argument', `${dir} is a language model's LoRA adapter, not a classifier's.`);
  const config = meta.base.config;
  const score = (await readSavedModules(dir, meta)).get(SCORE_WEIGHT);
  const K = info.labels.length;
  if (!score || score.shape.join(',') !== `${K},${config.embDim}`) throw new LlmLabError('bad-checkpoint', `${dir}: the classifier adapter lacks its head '${SCORE_WEIGHT}' [${K}, ${config.embDim}]; save the adapter again.`);
  const adapters = await readAdapters(dir, meta, config);
  try {
    const a = adapters.bySite.get('lm_head');
    let head: PeftModule = { name: PEFT_HEAD, shape: [K, config.embDim], data: score.data };
    if (a) {
      const A = (await a.A.data()) as Float32Array;
      const B = (await a.B.data()) as Float32Array;
      const dims = { inDim: a.site.inDim, outDim: a.site.outDim, rank: a.rank, alpha: a.alpha };
      head = { ...head, data: mergedHead(score.data, A, B, dims), parts: { site: 'lm_head', rank: a.rank, alpha: a.alpha, base: score.data, A, B } };
    }
    await exportPeft(adapters, config, outDir, meta.base.model, { taskType: 'SEQ_CLS', modules: [head], metadata: { [PEFT_LABELS]: JSON.stringify(info.labels) } });
    return { sites: adapters.bySite.size, parameters: adapters.parameterCount() + (a ? 0 : score.data.length) };
  } finally {
    adapters.dispose();
  }
}

/** Whether a PEFT adapter folder is a sequence classifier's (it saves a `score` head). */
export async function isPeftClassifier(peftDir: string): Promise<boolean> {
  try {
    const raw = JSON.parse(await fsp.readFile(path.join(peftDir, PEFT_CONFIG_FILE), 'utf8')) as { task_type?: unknown; modules_to_save?: unknown };
    return raw.task_type === 'SEQ_CLS' || (Array.isArray(raw.modules_to_save) && raw.modules_to_save.includes(PEFT_HEAD));
  } catch {
    return false;
  }
}

/**
 * Makes a LoRA classifier adapter folder at `outDir` from a PEFT sequence-classification adapter (LoRA weights and
 * the `score` head in modules_to_save) and the body it was trained on (`body`, loaded from `baseDir`). The class
 * names come from the file when LLM Lab wrote it, else `labels`, else transformers' LABEL_0, LABEL_1, ...
 */
export async function importClassifierPeft(peftDir: string, body: GptModel, baseDir: string, outDir: string, extra: { labels?: string[]; tokenizer: string }): Promise<{ sites: number; parameters: number; labels: string[] }> {
  const got = await importPeftWith(peftDir, body.config, { modules: [PEFT_HEAD], headParam: SCORE_WEIGHT });
  try {
    const score = got.modules.get(PEFT_HEAD);
    if (!score) throw new LlmLabError('bad-checkpoint', `${peftDir} saves no '${PEFT_HEAD}' head in modules_to_save; it is not a sequence classifier's adapter.`);
    const [K, C] = score.shape;
    if (score.shape.length !== 2 || C !== body.config.embDim || K < 2) {
      throw new LlmLabError('bad-checkpoint', `${peftDir}: the '${PEFT_HEAD}' head has shape [${score.shape}], not [classes ≥ 2, ${body.config.embDim}] for this base; the adapter belongs to another model.`);
    }
    const recorded = ((): string[] | undefined => {
      try {
        const l = JSON.parse(got.metadata[PEFT_LABELS] ?? 'null') as unknown;
        return Array.isArray(l) && l.length === K && l.every((x) => typeof x === 'string') ? (l as string[]) : undefined;
      } catch {
        return undefined;
      }
    })();
    const labels = recorded ?? extra.labels ?? Array.from({ length: K }, (_, i) => `LABEL_${i}`);
    if (labels.length !== K) throw new LlmLabError('bad-argument', `The adapter's head has ${K} classes but ${labels.length} class names were given.`);
    const adapted = got.adapters.bySite.has('lm_head');
    const info: ClassifierAdapterInfo = {
      labels, head: adapted ? 'adapter' : 'whole', trainableParameters: got.adapters.parameterCount() + (adapted ? 0 : K * C), maxLength: body.config.contextLength,
    };
    const first = [...got.adapters.bySite.values()][0];
    const meta = describeAdapters(got.adapters, { model: path.resolve(baseDir), fingerprint: await fingerprintModel(body), config: body.config }, {
      tokenizer: extra.tokenizer, task: 'classify', classifier: info, importedFrom: peftDir, ...(first ? { rank: first.rank, alpha: first.alpha } : {}),
    });
    const head = tf.tensor2d(score.data, [K, C]);
    try {
      await writeDirAtomic(path.resolve(outDir), (tmp) => writeAdapterFiles(tmp, got.adapters, meta, new Map([[SCORE_WEIGHT, head]])));
    } finally {
      head.dispose();
    }
    return { sites: got.adapters.bySite.size, parameters: info.trainableParameters, labels };
  } finally {
    got.adapters.dispose();
  }
}
