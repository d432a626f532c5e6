// LoRA adapters on disk, apart from their base model: `adapter.safetensors` holds each site's A (in, rank) and
// B (rank, out) as `<site>.lora_A` / `<site>.lora_B`, and `adapter.json` names the base model (its folder and a
// SHA-256 fingerprint of its weights), the rank, alpha and sites, and what the fine-tuning recorded (prompt
// style, tokenizer). Loading onto a base whose weights differ from the fingerprint is refused: an adapter only
// means something on the exact weights it was trained with.
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { writeDirAtomic, writeJsonAtomic, writeSafetensors } from '../checkpoint';
import type { LoadedModel } from '../checkpoint';
import { loadModel, readSafetensors } from '../checkpoint';
import type { LlmLabMeta } from '../checkpoint/hfConfig';
import { inheritedFim } from '../checkpoint/modelTokenizer';
import { ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE, findCheckpoint, isAdapterFolder } from '../checkpoint/layout';
import { tf } from '../engine';
import { LlmLabError } from '../errors';
import type { GptConfig } from '../model/config';
import type { GptModel } from '../model/gpt';
import { parameterShapes } from '../model/gpt';
import { TRAINED_TOKENIZER } from '../tokenizer/bpeModel';
import type { BpeModel } from '../tokenizer/bpeModel';
import { loadBpeModel } from '../tokenizer/files';
import { LoraAdapters, loraTensorNames } from './adapters';
import type { LoraSite } from './targets';
import { siteByName } from './targets';

export { ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE, isAdapterFolder } from '../checkpoint/layout';
export const ADAPTER_FORMAT_VERSION = 1;

/** adapter.json. */
export interface AdapterMeta {
  format: 'llm-lab-lora';
  version: number;
  base: {
    /** Absolute folder the base model was loaded from. */
    model: string;
    /** "sha256:<hex>" of the base weights (see fingerprintModel). */
    fingerprint: string;
    config: GptConfig;
  };
  /** Rank and alpha the adapters were made with (a site may differ when imported). */
  rank: number;
  alpha: number;
  sites: Array<{ site: string; rank: number; alpha: number }>;
  /** The adapted head's output width and base matrix, when the head is adapted. */
  head?: { outDim: number; param: string };
  /** Tokenizer of the base. */
  tokenizer: string;
  /** Prompt style of an instruction fine-tuning. */
  promptStyle?: string;
  /**
   * Whole tensors saved beside the adapters in adapter.safetensors, by name: parts the base does not have and
   * the fine-tuning made anew, such as a classifier's head `score.weight` (PEFT's modules_to_save).
   */
  modules?: string[];
  /** What else the writer records (task, step, ...). */
  [key: string]: unknown;
}

/**
 * SHA-256 over every base parameter in the GPT-2 layout order: its name, shape and float32 bytes. Equal weights
 * give an equal fingerprint whatever folder or file format they came from. `bodyOnly` leaves out a separate
 * language-model head (a classifier's base is the body alone).
 */
export async function fingerprintModel(model: GptModel, bodyOnly = false): Promise<string> {
  const h = createHash('sha256');
  for (const name of parameterShapes(model.config).keys()) {
    if (bodyOnly && name === 'lm_head.weight') continue;
    const v = model.params.get(name);
    if (!v) continue;
    h.update(`${name}:${v.shape.join('x')};`);
    const data = (await v.data()) as Float32Array;
    h.update(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  }
  return `sha256:${h.digest('hex')}`;
}

/** adapter.json of a folder, checked. */
export async function readAdapterMeta(dir: string): Promise<AdapterMeta> {
  const file = path.join(dir, ADAPTER_CONFIG_FILE);
  let raw: unknown;
  try {
    raw = JSON.parse(await fsp.readFile(file, 'utf8'));
  } catch (e) {
    const missing = (e as NodeJS.ErrnoException).code === 'ENOENT';
    throw new LlmLabError('bad-checkpoint', missing ? `${file} is missing; ${dir} is not a LoRA adapter folder.` : `${file} is not valid JSON; save the adapter again.`);
  }
  const m = raw as Partial<AdapterMeta>;
  if (m.format !== 'llm-lab-lora' || typeof m.base?.fingerprint !== 'string' || typeof m.base.model !== 'string' || !Array.isArray(m.sites) || !m.base.config) {
    throw new LlmLabError('bad-checkpoint', `${file} is not an LLM Lab adapter description (format, base and sites are needed); save the adapter again.`);
  }
  if ((m.version ?? 0) > ADAPTER_FORMAT_VERSION) {
    throw new LlmLabError('bad-checkpoint', `${file} was written by a newer LLM Lab (adapter format ${m.version}); update LLM Lab.`);
  }
  return m as AdapterMeta;
}

/** The adapters' description for adapter.json, given the base it was made on. */
export function describeAdapters(
  adapters: LoraAdapters,
  base: { model: string; fingerprint: string; config: GptConfig },
  extra: Partial<AdapterMeta> = {},
): AdapterMeta {
  const all = [...adapters.bySite.values()];
  const head = adapters.bySite.get('lm_head');
  return {
    tokenizer: 'gpt2',
    ...extra,
    format: 'llm-lab-lora',
    version: ADAPTER_FORMAT_VERSION,
    base,
    rank: extra.rank ?? all[0]?.rank ?? 0,
    alpha: extra.alpha ?? all[0]?.alpha ?? 0,
    sites: all.map((a) => ({ site: a.site.site, rank: a.rank, alpha: a.alpha })),
    ...(head ? { head: { outDim: head.site.outDim, param: head.site.param } } : {}),
  };
}

/**
 * Writes adapter.safetensors and adapter.json into an existing folder (each file atomically); `modules` are whole
 * tensors saved with the adapters (see AdapterMeta.modules), named in adapter.json.
 */
export async function writeAdapterFiles(dir: string, adapters: LoraAdapters, meta: AdapterMeta, modules: ReadonlyMap<string, tf.Tensor> = new Map()): Promise<void> {
  const tensors = [];
  for (const [name, v] of adapters.variables()) tensors.push({ name, shape: v.shape, data: (await v.data()) as Float32Array });
  for (const [name, v] of modules) {
    if (adapters.variables().has(name)) throw new LlmLabError('bad-argument', `The saved module '${name}' has the name of an adapter tensor.`);
    tensors.push({ name, shape: v.shape, data: (await v.data()) as Float32Array });
  }
  await writeSafetensors(path.join(dir, ADAPTER_WEIGHTS_FILE), tensors, { format: 'pt' });
  const { modules: _old, ...rest } = meta;
  await writeJsonAtomic(path.join(dir, ADAPTER_CONFIG_FILE), modules.size > 0 ? { ...rest, modules: [...modules.keys()] } : rest);
}

/** Saves an adapter folder whole (built beside `dir`, renamed into place). */
export async function saveAdapter(dir: string, adapters: LoraAdapters, meta: AdapterMeta, modules?: ReadonlyMap<string, tf.Tensor>): Promise<void> {
  await writeDirAtomic(path.resolve(dir), (tmp) => writeAdapterFiles(tmp, adapters, meta, modules));
}

/** The whole tensors an adapter folder saves beside its adapters (AdapterMeta.modules), checked finite. */
export async function readSavedModules(dir: string, meta: AdapterMeta): Promise<Map<string, { shape: number[]; data: Float32Array }>> {
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  const names = meta.modules ?? [];
  if (names.length === 0) return out;
  const file = path.join(dir, ADAPTER_WEIGHTS_FILE);
  const { tensors } = await readSafetensors(file, (n) => (names.includes(n) ? n : undefined));
  for (const name of names) {
    const t = tensors.get(name);
    if (!t) throw new LlmLabError('bad-checkpoint', `${file} lacks '${name}', which ${ADAPTER_CONFIG_FILE} lists; save the adapter again.`);
    const bad = t.data.findIndex((x) => !Number.isFinite(x));
    if (bad >= 0) throw new LlmLabError('bad-checkpoint', `${file}: '${name}' holds ${t.data[bad]} at index ${bad}; use an earlier checkpoint.`);
    out.set(name, { shape: t.shape, data: t.data });
  }
  return out;
}

/** Reads an adapter folder's tensors into adapters for a model of `config` (the base is not needed). */
export async function readAdapters(dir: string, meta: AdapterMeta, config: GptConfig): Promise<LoraAdapters> {
  const file = path.join(dir, ADAPTER_WEIGHTS_FILE);
  const { tensors } = await readSafetensors(file);
  const pairs: Array<{ site: LoraSite; rank: number; alpha: number; A: tf.Tensor; B: tf.Tensor }> = [];
  try {
    for (const s of meta.sites) {
      const site = siteByName(config, s.site, meta.head);
      if (!site) throw new LlmLabError('bad-checkpoint', `${dir}: adapter site '${s.site}' does not exist on the base model (${config.nLayers} layers); the adapter belongs to another model.`);
      const n = loraTensorNames(s.site);
      const a = tensors.get(n.A);
      const b = tensors.get(n.B);
      if (!a || !b) throw new LlmLabError('bad-checkpoint', `${file} lacks '${a ? n.B : n.A}'; save the adapter again.`);
      pairs.push({ site, rank: s.rank, alpha: s.alpha, A: tf.tensor(a.data, a.shape, 'float32'), B: tf.tensor(b.data, b.shape, 'float32') });
    }
    return LoraAdapters.fromPairs(pairs);
  } finally {
    tf.dispose(pairs.flatMap((p) => [p.A, p.B]));
  }
}

/** Refuses a base whose weights are not the ones the adapter was trained on. */
export async function checkBase(dir: string, meta: AdapterMeta, base: GptModel, baseDir: string): Promise<void> {
  const fp = await fingerprintModel(base, meta.classifier !== undefined);
  if (fp !== meta.base.fingerprint) {
    throw new LlmLabError(
      'bad-checkpoint',
      `The adapter in ${dir} was trained on other base weights than those in ${baseDir} (fingerprint ${meta.base.fingerprint.slice(0, 19)}…, this base ${fp.slice(0, 19)}…); ` +
        `load it onto the base it was made with (${meta.base.model}).`,
    );
  }
}

export interface LoadedAdapted extends LoadedModel {
  adapters: LoraAdapters;
  adapterMeta: AdapterMeta;
  /** The adapter folder. */
  adapterDir: string;
}

/** The adapter folder `dir` stands for: itself, or a LoRA run's latest step checkpoint; undefined when neither. */
export async function findAdapterFolder(dir: string): Promise<string | undefined> {
  const abs = path.resolve(dir);
  if (await isAdapterFolder(abs)) return abs;
  const found = await findCheckpoint(abs);
  return found && (await isAdapterFolder(found)) ? found : undefined;
}

/**
 * Loads the base an adapter folder (or a LoRA run folder: its latest checkpoint) names, or `baseDir`, checks its
 * fingerprint and attaches the adapters to it. The caller disposes the model and the adapters.
 */
export async function loadAdapted(dir: string, baseDir?: string): Promise<LoadedAdapted> {
  const abs = (await findAdapterFolder(dir)) ?? path.resolve(dir);
  const meta = await readAdapterMeta(abs);
  const baseAt = path.resolve(baseDir ?? meta.base.model);
  let loaded: LoadedModel;
  try {
    loaded = await loadModel(baseAt);
  } catch (e) {
    if (e instanceof LlmLabError && e.code === 'not-found') {
      throw new LlmLabError('not-found', `The adapter in ${abs} needs its base model ${baseAt}, which does not exist; restore it or give the base's new folder.`);
    }
    throw e;
  }
  try {
    await checkBase(abs, meta, loaded.model, baseAt);
    const adapters = await readAdapters(abs, meta, loaded.config);
    if (meta.classifier !== undefined) {
      // A classifier's adapter: its head's adapter belongs to the class head, which this plain model does not have.
      const head = adapters.bySite.get('lm_head');
      if (head) tf.dispose([head.A, head.B]);
      adapters.bySite.delete('lm_head');
      const c = meta.classifier as { labels?: string[]; trainableParameters?: number };
      loaded.meta.classifierLabels = c.labels;
      // What trained, as a classifier folder's config.json records it.
      loaded.meta.classifier = { trainable: 'lora', trainableParameters: c.trainableParameters, ...(Array.isArray(meta.targets) ? { targets: meta.targets } : {}) };
    }
    loaded.model.adapter = adapters;
    return { ...loaded, adapters, adapterMeta: meta, adapterDir: abs };
  } catch (e) {
    loaded.model.dispose();
    throw e;
  }
}

/**
 * config.json's LLM Lab fields of the plain model merged from `a`: the adapter's tokenizer and prompt style, the
 * base's fill-in-the-middle sentinels, and where it came from (`adapter` as the user named it).
 */
export function mergedModelMeta(a: LoadedAdapted, adapter: string = a.adapterDir): Partial<LlmLabMeta> {
  const { promptStyle, tokenizer } = a.adapterMeta;
  return { tokenizer, ...(promptStyle ? { promptStyle } : {}), ...inheritedFim(a.meta), mergedFrom: { adapter, base: a.dir } };
}

/** The base's own trained tokenizer, which the model merged from `a` needs beside its weights; undefined for GPT-2's. */
export async function mergedModelTokenizer(a: LoadedAdapted): Promise<BpeModel | undefined> {
  return a.adapterMeta.tokenizer === TRAINED_TOKENIZER ? loadBpeModel(a.dir) : undefined;
}

/** What an adapter folder adds to a loaded model's description. */
export interface AdapterSummary {
  /** The adapter folder. */
  dir: string;
  /** The base model folder it runs on. */
  base: string;
  rank: number;
  alpha: number;
  /** Values the adapters hold (what trained). */
  parameters: number;
}

/**
 * Loads a model folder, a run folder (its latest checkpoint) or a LoRA adapter folder (its base with the adapters
 * attached). For an adapter, `meta` carries the adapter's tokenizer and prompt style, and `dir` stays the base's.
 * A classifier's adapter loads as its adapted body with `meta.classifierLabels` set (core/classify loads it whole).
 */
export async function loadAnyModel(dir: string): Promise<LoadedModel & { adapter?: AdapterSummary }> {
  const abs = path.resolve(dir);
  const found = (await isAdapterFolder(abs)) ? abs : await findCheckpoint(abs); // a LoRA run keeps adapters in its step folders
  if (!found || !(await isAdapterFolder(found))) return loadModel(dir);
  const a = await loadAdapted(found);
  const m = a.adapterMeta;
  return {
    model: a.model,
    config: a.config,
    dir: a.dir,
    meta: { ...a.meta, tokenizer: m.tokenizer, ...(m.promptStyle ? { promptStyle: m.promptStyle } : {}), ...(a.meta.classifierLabels ? { classifierLabels: a.meta.classifierLabels, classifier: a.meta.classifier } : {}) },
    adapter: { dir: a.adapterDir, base: a.dir, rank: m.rank, alpha: m.alpha, parameters: a.adapters.parameterCount() },
  };
}
