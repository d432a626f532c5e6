// LoRA in a fine-tuning run (the book's appendix E): the base model's weights stay frozen and only the adapters
// beside its linear layers train. A task asks this module for the adapters (fresh, or read back from a step
// checkpoint when resuming), for the parameter map and trainable set it hands the training loop, and for how a
// step checkpoint is written: adapter.safetensors + adapter.json naming the base folder and its fingerprint, so
// the checkpoint is itself an adapter folder that loads onto its base (ask, generate, lora merge, Select Model).
import * as path from 'node:path';
import type { tf } from '../engine';
import { LlmLabError } from '../errors';
import type { GptModel } from '../model/gpt';
import { LoraAdapters, validateLora } from './adapters';
import type { AdapterMeta } from './files';
import { describeAdapters, fingerprintModel, readAdapterMeta, readAdapters, writeAdapterFiles } from './files';
import type { LoraTarget } from './targets';
import { DEFAULT_LORA_TARGETS, LORA_TARGETS, loraParameterCount, loraSites } from './targets';

/** LoRA settings of a fine-tuning run. */
export interface LoraTrainOptions {
  /** Inner width r of every adapter (the book: 16). */
  rank: number;
  /** Scale numerator; the adapter's output is multiplied by alpha/rank. Default: the rank. */
  alpha?: number;
  /** Which linear layers get adapters. Default all: q, k, v, attn-out, mlp-in, mlp-out, head (the book's choice). */
  targets?: readonly LoraTarget[];
}

/** The settings with defaults filled in, as a run records them. */
export interface ResolvedLoraOptions {
  rank: number;
  alpha: number;
  targets: LoraTarget[];
}

/** The adapted head's output width and base matrix; undefined for a language model's own head. */
export type LoraHead = { outDim: number; param: string } | undefined;

/** Fills in the defaults and checks the values; undefined when LoRA is off. */
export function resolveLoraOptions(o: LoraTrainOptions | undefined): ResolvedLoraOptions | undefined {
  if (o === undefined) return undefined;
  const r: ResolvedLoraOptions = { rank: o.rank, alpha: o.alpha ?? o.rank, targets: [...(o.targets ?? DEFAULT_LORA_TARGETS)] };
  validateLora(r);
  for (const t of r.targets) {
    if (!(LORA_TARGETS as readonly string[]).includes(t)) throw new LlmLabError('bad-argument', `LoRA target '${t}' is not one LLM Lab knows; use ${LORA_TARGETS.join(', ')}.`);
  }
  if (r.targets.length === 0) throw new LlmLabError('bad-argument', `Give at least one LoRA target: ${LORA_TARGETS.join(', ')}.`);
  return r;
}

/** Values the adapters of `lora` would train on a model of `model.config` (before any is made). */
export function loraTrainableCount(config: GptModel['config'], lora: ResolvedLoraOptions, head?: LoraHead): number {
  return loraParameterCount(loraSites(config, lora.targets, head), lora.rank);
}

/** The base a LoRA run trains on: its folder and the fingerprint of its weights (computed once a run). */
export interface LoraBase {
  dir: string;
  fingerprint: string;
}

export async function describeBase(model: GptModel, dir: string): Promise<LoraBase> {
  return { dir: path.resolve(dir), fingerprint: await fingerprintModel(model) };
}

/** Fresh adapters on `model` (attached to it); B = 0, so the model's outputs are unchanged until they train. */
export function attachNewAdapters(model: GptModel, lora: ResolvedLoraOptions, seed: number, head?: LoraHead): LoraAdapters {
  const adapters = LoraAdapters.create(loraSites(model.config, lora.targets, head), lora, seed);
  model.adapter = adapters;
  return adapters;
}

/**
 * The adapters saved in a LoRA run's step checkpoint, attached to `model` after checking that `model` is the base
 * they were trained on (its fingerprint) and that they are the run's rank and alpha.
 */
export async function attachSavedAdapters(stepDir: string, model: GptModel, base: LoraBase, lora: ResolvedLoraOptions): Promise<LoraAdapters> {
  const meta = await readAdapterMeta(stepDir);
  if (meta.base.fingerprint !== base.fingerprint) {
    throw new LlmLabError(
      'bad-checkpoint',
      `The adapters in ${stepDir} were trained on other base weights than those in ${base.dir}; resume with the run's base model (${meta.base.model}).`,
    );
  }
  if (meta.rank !== lora.rank || meta.alpha !== lora.alpha) {
    throw new LlmLabError('bad-checkpoint', `The adapters in ${stepDir} have rank ${meta.rank} and alpha ${meta.alpha}, not the run's ${lora.rank} and ${lora.alpha}; the run folder is inconsistent.`);
  }
  const adapters = await readAdapters(stepDir, meta, model.config);
  model.adapter = adapters;
  return adapters;
}

/** What the training loop needs: every variable by name (base and adapters) and the adapters' names as the trained set. */
export function loraTaskParams(model: GptModel, adapters: LoraAdapters): { params: Map<string, tf.Variable>; trainable: Set<string> } {
  const vars = adapters.variables();
  const params = new Map(model.params);
  for (const [name, v] of vars) {
    if (params.has(name)) throw new LlmLabError('bad-argument', `The adapter tensor '${name}' has the name of a model parameter.`);
    params.set(name, v);
  }
  return { params, trainable: new Set(vars.keys()) };
}

/** Writes a step checkpoint's adapter files: the checkpoint folder is an adapter folder over `base`. */
export async function writeAdapterCheckpoint(
  dir: string,
  adapters: LoraAdapters,
  model: GptModel,
  base: LoraBase,
  lora: ResolvedLoraOptions,
  extra: Partial<AdapterMeta>,
): Promise<void> {
  const meta = describeAdapters(adapters, { model: base.dir, fingerprint: base.fingerprint, config: model.config }, { ...extra, rank: lora.rank, alpha: lora.alpha });
  await writeAdapterFiles(dir, adapters, meta);
}
