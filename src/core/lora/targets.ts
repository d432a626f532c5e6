// Which linear layers LoRA adapts, and the shapes of their adapters. GPT-2 fuses the query, key and value
// projections into one `c_attn` matrix; as in the book's appendix E, each of the three gets its own adapter, on
// its third of c_attn's output. The default adapts every linear layer (the book replaces them all): q, k, v, the
// attention output, both MLP layers and the output head.
import { LlmLabError } from '../errors';
import type { GptConfig } from '../model/config';

export const LORA_TARGETS = ['q', 'k', 'v', 'attn-out', 'mlp-in', 'mlp-out', 'head'] as const;
export type LoraTarget = (typeof LORA_TARGETS)[number];
export const DEFAULT_LORA_TARGETS: readonly LoraTarget[] = LORA_TARGETS;

/** Where an adapter sits and the base matrix it corrects. */
export interface LoraSite {
  /** The model's name of the adapted output (see GptModel's LinearAdapter), e.g. `h.3.attn.c_attn.q`. */
  site: string;
  /** Input and output width of the adapter: A is (inDim, rank), B (rank, outDim). */
  inDim: number;
  outDim: number;
  /** The base parameter whose output it adds to (for merging), stored [in, out] except the head's [out, in]. */
  param: string;
  /** First output column of the base matrix the site covers (q/k/v cover a third of c_attn). */
  outOffset: number;
}

/** Targets from a comma list such as "q,v,head" ("all" for every one, "qkv" for q,k,v). */
export function parseLoraTargets(text: string): LoraTarget[] {
  const out = new Set<LoraTarget>();
  for (const raw of text.split(',').map((t) => t.trim()).filter((t) => t !== '')) {
    if (raw === 'all') LORA_TARGETS.forEach((t) => out.add(t));
    else if (raw === 'qkv') ['q', 'k', 'v'].forEach((t) => out.add(t as LoraTarget));
    else if ((LORA_TARGETS as readonly string[]).includes(raw)) out.add(raw as LoraTarget);
    else {
      throw new LlmLabError('bad-argument', `LoRA target '${raw}' is not one LLM Lab knows; use a comma list of ${LORA_TARGETS.join(', ')} (or all, qkv).`);
    }
  }
  if (out.size === 0) throw new LlmLabError('bad-argument', `Give at least one LoRA target: ${LORA_TARGETS.join(', ')} (or all).`);
  return LORA_TARGETS.filter((t) => out.has(t));
}

/**
 * The adapter sites of a model for targets, layer by layer, the head last. `headOut` is the head's output width
 * (the vocabulary for a language model, the classes for a classifier) and `headParam` its matrix.
 */
export function loraSites(
  c: GptConfig,
  targets: readonly LoraTarget[],
  head: { outDim: number; param: string } = { outDim: c.vocabSize, param: c.tiedHead ? 'wte.weight' : 'lm_head.weight' },
): LoraSite[] {
  const C = c.embDim;
  const want = new Set(targets);
  const sites: LoraSite[] = [];
  for (let i = 0; i < c.nLayers; i++) {
    const h = `h.${i}`;
    (['q', 'k', 'v'] as const).forEach((t, j) => {
      if (want.has(t)) sites.push({ site: `${h}.attn.c_attn.${t}`, inDim: C, outDim: C, param: `${h}.attn.c_attn.weight`, outOffset: j * C });
    });
    if (want.has('attn-out')) sites.push({ site: `${h}.attn.c_proj`, inDim: C, outDim: C, param: `${h}.attn.c_proj.weight`, outOffset: 0 });
    if (want.has('mlp-in')) sites.push({ site: `${h}.mlp.c_fc`, inDim: C, outDim: 4 * C, param: `${h}.mlp.c_fc.weight`, outOffset: 0 });
    if (want.has('mlp-out')) sites.push({ site: `${h}.mlp.c_proj`, inDim: 4 * C, outDim: C, param: `${h}.mlp.c_proj.weight`, outOffset: 0 });
  }
  if (want.has('head')) sites.push({ site: 'lm_head', inDim: C, outDim: head.outDim, param: head.param, outOffset: 0 });
  return sites;
}

/** The site a fused (whole c_attn) adapter of layer `i` uses, as imported from other tools. */
export function fusedQkvSite(c: GptConfig, i: number): LoraSite {
  return { site: `h.${i}.attn.c_attn`, inDim: c.embDim, outDim: 3 * c.embDim, param: `h.${i}.attn.c_attn.weight`, outOffset: 0 };
}

/** Trainable values of LoRA adapters of `rank` on these sites: rank·(in + out) each. */
export function loraParameterCount(sites: readonly LoraSite[], rank: number): number {
  return sites.reduce((n, s) => n + rank * (s.inDim + s.outDim), 0);
}

/** The site named `name` on a model of config c (a saved adapter names its sites); undefined for an unknown name. */
export function siteByName(c: GptConfig, name: string, head?: { outDim: number; param: string }): LoraSite | undefined {
  const m = /^h\.(\d+)\.attn\.c_attn$/.exec(name);
  if (m && Number(m[1]) < c.nLayers) return fusedQkvSite(c, Number(m[1]));
  return loraSites(c, LORA_TARGETS, head).find((s) => s.site === name);
}
