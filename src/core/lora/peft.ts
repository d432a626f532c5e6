// LoRA adapters in Hugging Face PEFT's layout, so they move between LLM Lab and `peft`: a folder with
// `adapter_config.json` and `adapter_model.safetensors`, tensors named
// `base_model.model.transformer.h.N.<module>.lora_A.weight` (rank, in) and `.lora_B.weight` (out, rank), the
// transposes of our A (in, rank) and B (rank, out). PEFT adapts modules whole, so the separate q, k and v
// adapters of GPT-2's fused `c_attn` leave as one adapter of rank 3R (A side by side, B block-diagonal) with its
// alpha tripled through `rank_pattern`/`alpha_pattern`, which keeps alpha/rank and the output exactly; the
// file's metadata names the split so importing restores the three adapters bit for bit. Whole tensors the
// fine-tuning made anew (a classifier's head `score`) go as PEFT's `modules_to_save`: `base_model.model.score.weight`
// (PEFT strips its `modules_to_save.default` wrapper name when saving). PEFT cannot hold an adapter on such a
// module too, so an adapted head leaves merged, with its frozen matrix and adapter named in the metadata so that
// LLM Lab's import restores them bit for bit.
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { readSafetensors, writeDirAtomic, writeJsonAtomic, writeSafetensors } from '../checkpoint';
import type { TensorToWrite } from '../checkpoint';
import { LlmLabError } from '../errors';
import { tf } from '../engine';
import type { GptConfig } from '../model/config';
import type { LoraAdapters, SiteAdapter } from './adapters';
import { LoraAdapters as Adapters, mergedHead } from './adapters';
import type { LoraSite } from './targets';
import { fusedQkvSite, siteByName } from './targets';

export const PEFT_CONFIG_FILE = 'adapter_config.json';
export const PEFT_WEIGHTS_FILE = 'adapter_model.safetensors';
/** safetensors metadata key naming which of q, k, v each layer's exported c_attn adapter carries. */
const QKV_META = 'llm_lab_qkv';
/** safetensors metadata key holding, for a module saved merged, its frozen matrix and adapter (see PeftModule.parts). */
const MODULES_META = 'llm_lab_modules';

/** A whole module saved with the adapters (PEFT's modules_to_save), e.g. a classifier's head. */
export interface PeftModule {
  /** PEFT's module name, e.g. 'score'; its tensor is `base_model.model.<name>.weight`. */
  name: string;
  /** (out, in), as the model stores it. */
  shape: [number, number];
  /** What PEFT loads: the frozen matrix plus the adapter's correction when `parts` is given. */
  data: Float32Array;
  /** When the module is a frozen matrix with one of our adapters (`site`): the parts `data` was merged from. */
  parts?: { site: string; rank: number; alpha: number; base: Float32Array; A: Float32Array; B: Float32Array };
}

/** What a classifier (or any task with a new head) adds to a PEFT export. */
export interface PeftExtra {
  /** PEFT's task_type. Default CAUSAL_LM. */
  taskType?: string;
  modules?: readonly PeftModule[];
  /** More safetensors metadata (strings), e.g. class names. */
  metadata?: Record<string, string>;
}

const toB64 = (a: Float32Array): string => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
function fromB64(text: unknown, size: number): Float32Array | undefined {
  if (typeof text !== 'string') return undefined;
  const bytes = Buffer.from(text, 'base64');
  if (bytes.length !== 4 * size) return undefined;
  const out = new Float32Array(size);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}
const QKV = ['q', 'k', 'v'] as const;

/** PEFT's module name of one of our sites (without the q/k/v part). */
function moduleOf(site: string): string {
  return site === 'lm_head' ? 'lm_head' : `transformer.${site.replace(/\.[qkv]$/, '')}`;
}
/** "attn.c_attn" from "transformer.h.3.attn.c_attn": the key PEFT matches target_modules and patterns by. */
function shortName(module: string): string {
  return module === 'lm_head' ? 'lm_head' : module.split('.').slice(-2).join('.');
}

function transpose(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c];
  return out;
}

interface Module {
  name: string;
  rank: number;
  alpha: number;
  A: Float32Array; // (in, rank), ours
  B: Float32Array; // (rank, out), ours
  inDim: number;
  outDim: number;
}

/** Our q/k/v adapters of one layer as one c_attn adapter: A side by side, B block-diagonal over the three thirds. */
async function fuseQkv(parts: SiteAdapter[], C: number): Promise<Module> {
  const { rank: R, alpha } = parts[0];
  if (parts.some((p) => p.rank !== R || p.alpha !== alpha)) {
    throw new LlmLabError('bad-argument', `The q, k and v adapters of ${parts[0].site.param} differ in rank or alpha, which PEFT cannot hold as one c_attn adapter; export needs them equal.`);
  }
  const n = parts.length;
  const A = new Float32Array(C * n * R);
  const B = new Float32Array(n * R * 3 * C);
  for (let j = 0; j < n; j++) {
    const a = (await parts[j].A.data()) as Float32Array; // (C, R)
    const b = (await parts[j].B.data()) as Float32Array; // (R, C)
    for (let i = 0; i < C; i++) for (let r = 0; r < R; r++) A[i * n * R + j * R + r] = a[i * R + r];
    const col = parts[j].site.outOffset;
    for (let r = 0; r < R; r++) for (let o = 0; o < C; o++) B[(j * R + r) * 3 * C + col + o] = b[r * C + o];
  }
  return { name: moduleOf(parts[0].site.site), rank: n * R, alpha: n * alpha, A, B, inDim: C, outDim: 3 * C };
}

/** Writes `adapters` as a PEFT adapter folder (built beside `outDir`, renamed into place). */
export async function exportPeft(adapters: LoraAdapters, config: GptConfig, outDir: string, baseName = 'gpt2', extra: PeftExtra = {}): Promise<void> {
  const modules: Module[] = [];
  const qkvOf: Record<string, string> = {};
  const byLayer = new Map<string, SiteAdapter[]>();
  const saved = extra.modules ?? [];
  const mergedSites = new Set(saved.flatMap((m) => (m.parts ? [m.parts.site] : [])));
  for (const a of adapters.bySite.values()) {
    if (mergedSites.has(a.site.site)) continue;
    const m = /^(h\.\d+)\.attn\.c_attn\.([qkv])$/.exec(a.site.site);
    if (m) {
      const list = byLayer.get(m[1]) ?? [];
      list.push(a);
      byLayer.set(m[1], list);
      continue;
    }
    modules.push({ name: moduleOf(a.site.site), rank: a.rank, alpha: a.alpha, A: (await a.A.data()) as Float32Array, B: (await a.B.data()) as Float32Array, inDim: a.site.inDim, outDim: a.site.outDim });
  }
  for (const [layer, parts] of byLayer) {
    parts.sort((x, y) => x.site.outOffset - y.site.outOffset);
    modules.push(await fuseQkv(parts, config.embDim));
    qkvOf[layer] = parts.map((p) => p.site.site.slice(-1)).join(',');
  }
  if (modules.length === 0 && saved.length === 0) throw new LlmLabError('bad-argument', 'The adapter has no adapted layers to export.');
  const r = modules[0]?.rank ?? 8;
  const alpha = modules[0]?.alpha ?? 8;
  const rankPattern: Record<string, number> = {};
  const alphaPattern: Record<string, number> = {};
  for (const m of modules) {
    if (m.rank !== r) rankPattern[shortName(m.name)] = m.rank;
    if (m.alpha !== alpha) alphaPattern[shortName(m.name)] = m.alpha;
  }
  const tensors: TensorToWrite[] = [];
  for (const m of modules) {
    tensors.push({ name: `base_model.model.${m.name}.lora_A.weight`, shape: [m.rank, m.inDim], data: transpose(m.A, m.inDim, m.rank) });
    tensors.push({ name: `base_model.model.${m.name}.lora_B.weight`, shape: [m.outDim, m.rank], data: transpose(m.B, m.rank, m.outDim) });
  }
  const parts: Record<string, unknown> = {};
  for (const m of saved) {
    tensors.push({ name: `base_model.model.${m.name}.weight`, shape: m.shape, data: m.data });
    if (m.parts) parts[m.name] = { site: m.parts.site, rank: m.parts.rank, alpha: m.parts.alpha, base: toB64(m.parts.base), A: toB64(m.parts.A), B: toB64(m.parts.B) };
  }
  const peftConfig = {
    peft_type: 'LORA',
    task_type: extra.taskType ?? 'CAUSAL_LM',
    base_model_name_or_path: baseName,
    r,
    lora_alpha: alpha,
    target_modules: [...new Set(modules.map((m) => shortName(m.name)))],
    rank_pattern: rankPattern,
    alpha_pattern: alphaPattern,
    lora_dropout: 0,
    fan_in_fan_out: true,
    bias: 'none',
    use_rslora: false,
    use_dora: false,
    modules_to_save: saved.length > 0 ? saved.map((m) => m.name) : null,
    init_lora_weights: true,
    inference_mode: true,
    layers_to_transform: null,
    layers_pattern: null,
    revision: null,
  };
  await writeDirAtomic(path.resolve(outDir), async (tmp) => {
    const metadata: Record<string, string> = { ...extra.metadata, format: 'pt', [QKV_META]: JSON.stringify(qkvOf) };
    if (Object.keys(parts).length > 0) metadata[MODULES_META] = JSON.stringify(parts);
    await writeSafetensors(path.join(tmp, PEFT_WEIGHTS_FILE), tensors, metadata);
    await writeJsonAtomic(path.join(tmp, PEFT_CONFIG_FILE), peftConfig);
  });
}

function patternValue(pattern: unknown, module: string): number | undefined {
  if (typeof pattern !== 'object' || pattern === null) return undefined;
  for (const [key, value] of Object.entries(pattern as Record<string, unknown>)) {
    if (typeof value === 'number' && new RegExp(`^(.*\\.)?(${key})$`).test(module)) return value;
  }
  return undefined;
}

/** Splits an imported c_attn adapter into q/k/v ones when its B is block-diagonal over `which`; else undefined. */
function splitQkv(c: GptConfig, layer: number, m: Module, which: string[]): Array<{ site: LoraSite; rank: number; alpha: number; A: Float32Array; B: Float32Array }> | undefined {
  const C = c.embDim;
  const n = which.length;
  if (n === 0 || m.rank % n !== 0) return undefined;
  const R = m.rank / n;
  const blockOf = (col: number): number => Math.floor(col / C);
  for (let row = 0; row < m.rank; row++) {
    const mine = QKV.indexOf(which[Math.floor(row / R)] as (typeof QKV)[number]);
    for (let col = 0; col < 3 * C; col++) if (blockOf(col) !== mine && m.B[row * 3 * C + col] !== 0) return undefined;
  }
  return which.map((t, j) => {
    const site = siteByName(c, `h.${layer}.attn.c_attn.${t}`)!;
    const A = new Float32Array(C * R);
    const B = new Float32Array(R * C);
    for (let i = 0; i < C; i++) for (let r = 0; r < R; r++) A[i * R + r] = m.A[i * m.rank + j * R + r];
    for (let r = 0; r < R; r++) for (let o = 0; o < C; o++) B[r * C + o] = m.B[(j * R + r) * 3 * C + site.outOffset + o];
    return { site, rank: R, alpha: m.alpha / n, A, B };
  });
}

/** Reads a PEFT LoRA adapter folder made for GPT-2 into adapters for a model of `config` (no modules_to_save). */
export async function importPeft(dir: string, config: GptConfig): Promise<LoraAdapters> {
  return (await importPeftWith(dir, config)).adapters;
}

/** What importPeftWith read. */
export interface PeftImport {
  adapters: LoraAdapters;
  /** The modules_to_save tensors by module name, (out, in): the frozen matrix when its adapter was restored. */
  modules: Map<string, { shape: number[]; data: Float32Array }>;
  /** The safetensors metadata (e.g. names a writer recorded). */
  metadata: Record<string, string>;
  /** adapter_config.json's task_type. */
  taskType?: string;
}

/**
 * Reads a PEFT LoRA adapter folder made for GPT-2, and the modules_to_save named in `accept` (e.g. a classifier's
 * `score`, whose matrix is `headParam`): a module LLM Lab exported merged comes back as its frozen matrix
 * and adapter when the file still holds exactly their merge, else as the whole matrix it holds.
 */
export async function importPeftWith(dir: string, config: GptConfig, accept: { modules?: readonly string[]; headParam?: string } = {}): Promise<PeftImport> {
  const cfgFile = path.join(dir, PEFT_CONFIG_FILE);
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(await fsp.readFile(cfgFile, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    const missing = (e as NodeJS.ErrnoException).code === 'ENOENT';
    throw new LlmLabError('bad-checkpoint', missing ? `${cfgFile} is missing; a PEFT adapter folder holds adapter_config.json and adapter_model.safetensors.` : `${cfgFile} is not valid JSON.`);
  }
  const refuse = (what: string): LlmLabError => new LlmLabError('bad-checkpoint', `${cfgFile}: ${what}, which LLM Lab's LoRA does not support; export a plain LoRA adapter.`);
  if (raw.peft_type !== 'LORA') throw refuse(`peft_type is ${String(raw.peft_type)}`);
  if (raw.use_dora === true) throw refuse('use_dora is true (DoRA)');
  if (raw.bias !== undefined && raw.bias !== 'none') throw refuse(`bias is "${String(raw.bias)}"`);
  const toSave: string[] = Array.isArray(raw.modules_to_save) ? raw.modules_to_save.map(String) : [];
  const allowed = new Set(accept.modules ?? []);
  const unknown = toSave.filter((m) => !allowed.has(m));
  if (unknown.length > 0) {
    throw new LlmLabError(
      'bad-checkpoint',
      `${cfgFile}: modules_to_save lists ${unknown.join(', ')}, which ${allowed.size > 0 ? `LLM Lab cannot load here (it takes ${[...allowed].join(', ')})` : "LLM Lab's LoRA does not support; export a plain LoRA adapter"}.`,
    );
  }
  const alpha0 = Number(raw.lora_alpha ?? 8);
  const rslora = raw.use_rslora === true;
  const { tensors, metadata } = await readSafetensors(path.join(dir, PEFT_WEIGHTS_FILE));
  const hint = ((): Record<string, string> => {
    try {
      return metadata[QKV_META] ? (JSON.parse(metadata[QKV_META]) as Record<string, string>) : {};
    } catch {
      return {};
    }
  })();
  const byModule = new Map<string, { A?: Float32Array; B?: Float32Array; aShape?: number[]; bShape?: number[] }>();
  const saved = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [name, t] of tensors) {
    const whole = /^base_model\.model\.(\w+)(?:\.modules_to_save)?(?:\.default)?\.weight$/.exec(name);
    if (whole && toSave.includes(whole[1])) {
      saved.set(whole[1], { shape: t.shape, data: t.data });
      continue;
    }
    const m = /^base_model\.model\.(?:transformer\.)?(h\.\d+\.(?:attn\.c_attn|attn\.c_proj|mlp\.c_fc|mlp\.c_proj)|lm_head)\.lora_([AB])(?:\.default)?\.weight$/.exec(name);
    if (!m) throw new LlmLabError('bad-checkpoint', `${dir}: tensor '${name}' is not a LoRA weight of a GPT-2 linear layer LLM Lab adapts.`);
    const entry = byModule.get(m[1]) ?? {};
    if (m[2] === 'A') Object.assign(entry, { A: t.data, aShape: t.shape });
    else Object.assign(entry, { B: t.data, bShape: t.shape });
    byModule.set(m[1], entry);
  }
  const pairs: Array<{ site: LoraSite; rank: number; alpha: number; A: Float32Array; B: Float32Array }> = [];
  for (const [site, e] of byModule) {
    if (!e.A || !e.B || !e.aShape || !e.bShape) throw new LlmLabError('bad-checkpoint', `${dir}: ${site} has lora_${e.A ? 'B' : 'A'} missing.`);
    const [rank, inDim] = e.aShape;
    const [outDim, rankB] = e.bShape;
    if (rankB !== rank) throw new LlmLabError('bad-checkpoint', `${dir}: ${site}'s lora_A has rank ${rank} but lora_B ${rankB}.`);
    const module = moduleOf(site);
    let alpha = patternValue(raw.alpha_pattern, module) ?? alpha0;
    if (rslora) alpha = alpha * Math.sqrt(rank); // rsLoRA scales by alpha/√r, which is (alpha·√r)/r
    const mod: Module = { name: module, rank, alpha, A: transpose(e.A, rank, inDim), B: transpose(e.B, outDim, rank), inDim, outDim };
    const qkv = /^h\.(\d+)\.attn\.c_attn$/.exec(site);
    if (qkv) {
      const layer = Number(qkv[1]);
      if (layer >= config.nLayers) throw new LlmLabError('bad-checkpoint', `${dir}: ${site} is beyond the base model's ${config.nLayers} layers.`);
      const which = hint[`h.${layer}`]?.split(',') ?? QKV.filter((_, j) => mod.B.some((v, i) => v !== 0 && Math.floor((i % (3 * config.embDim)) / config.embDim) === j));
      const split = splitQkv(config, layer, mod, which);
      if (split) pairs.push(...split);
      else pairs.push({ site: fusedQkvSite(config, layer), rank, alpha, A: mod.A, B: mod.B });
      continue;
    }
    const found = siteByName(config, site);
    if (!found) throw new LlmLabError('bad-checkpoint', `${dir}: ${site} does not exist on the base model (${config.nLayers} layers).`);
    pairs.push({ site: found, rank, alpha, A: mod.A, B: mod.B });
  }
  for (const m of toSave) if (!saved.has(m)) throw new LlmLabError('bad-checkpoint', `${dir}: modules_to_save lists ${m} but ${PEFT_WEIGHTS_FILE} has no base_model.model.${m}.weight.`);
  const hints = ((): Record<string, Record<string, unknown>> => {
    try {
      return metadata[MODULES_META] ? (JSON.parse(metadata[MODULES_META]) as Record<string, Record<string, unknown>>) : {};
    } catch {
      return {};
    }
  })();
  for (const [name, t] of saved) {
    const h = hints[name];
    if (!h || !accept.headParam || h.site !== 'lm_head' || t.shape.length !== 2 || t.shape[1] !== config.embDim) continue;
    const [outDim, inDim] = t.shape;
    const rank = Number(h.rank);
    const alpha = Number(h.alpha);
    if (!Number.isInteger(rank) || rank < 1 || !(alpha > 0)) continue;
    const base = fromB64(h.base, outDim * inDim);
    const A = fromB64(h.A, inDim * rank);
    const B = fromB64(h.B, rank * outDim);
    if (!base || !A || !B) continue;
    const again = mergedHead(base, A, B, { inDim, outDim, rank, alpha });
    if (!again.every((x, i) => Object.is(x, t.data[i]))) continue; // changed since LLM Lab wrote it: keep it whole
    const site = siteByName(config, 'lm_head', { outDim, param: accept.headParam })!;
    pairs.push({ site, rank, alpha, A, B });
    saved.set(name, { shape: t.shape, data: base });
  }
  const made = pairs.map((p) => ({ ...p, A: tf.tensor2d(p.A, [p.site.inDim, p.rank]), B: tf.tensor2d(p.B, [p.rank, p.site.outDim]) }));
  try {
    return { adapters: Adapters.fromPairs(made), modules: saved, metadata, ...(typeof raw.task_type === 'string' ? { taskType: raw.task_type } : {}) };
  } finally {
    tf.dispose(made.flatMap((p) => [p.A, p.B]));
  }
}
