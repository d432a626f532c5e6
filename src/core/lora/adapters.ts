// LoRA adapters (the book's appendix E, Hu et al. 2021): beside a frozen linear layer y = x·W + b, a trainable
// pair A (in, rank) and B (rank, out) adds (x·A·B)·alpha/rank to its output. A starts Kaiming-uniform as the
// book's `torch.nn.init.kaiming_uniform_(A, a=√5)` (torch takes A's second axis, the rank, as its fan-in, so the
// bound is 1/√rank) and B at zero, so a new adapter leaves the model's outputs exactly as they were. The model
// calls `delta` at each adapted layer (GptModel.adapter); the base weights are never touched.
import { tf } from '../engine';
import * as ops from '../engine/ops';
import { LlmLabError } from '../errors';
import type { LinearAdapter } from '../model/gpt';
import { GptModel } from '../model/gpt';
import type { LoraSite } from './targets';

/** One site's adapter. */
export interface SiteAdapter {
  site: LoraSite;
  rank: number;
  alpha: number;
  A: tf.Variable; // (in, rank)
  B: tf.Variable; // (rank, out)
}

export interface LoraSettings {
  /** Inner width r of every adapter. */
  rank: number;
  /** Scale numerator: the adapter's output is multiplied by alpha/rank. */
  alpha: number;
}

export function validateLora(s: LoraSettings): void {
  if (!Number.isInteger(s.rank) || s.rank < 1) throw new LlmLabError('bad-argument', `The LoRA rank must be a whole number ≥ 1, got ${s.rank}.`);
  if (!(Number.isFinite(s.alpha) && s.alpha > 0)) throw new LlmLabError('bad-argument', `The LoRA alpha must be a number > 0, got ${s.alpha}.`);
}

/** Stored tensor names of a site's pair. */
export function loraTensorNames(site: string): { A: string; B: string } {
  return { A: `${site}.lora_A`, B: `${site}.lora_B` };
}

export class LoraAdapters implements LinearAdapter {
  private constructor(readonly bySite: Map<string, SiteAdapter>) {}

  /** Fresh adapters of one rank and alpha on `sites`; the same seed gives the same A on every backend. */
  static create(sites: readonly LoraSite[], s: LoraSettings, seed = 0): LoraAdapters {
    validateLora(s);
    const bound = 1 / Math.sqrt(s.rank);
    const by = new Map<string, SiteAdapter>();
    sites.forEach((site, i) => {
      const A = tf.tidy(() => tf.variable(tf.randomUniform([site.inDim, s.rank], -bound, bound, 'float32', seed * 7919 + i), true));
      const B = tf.tidy(() => tf.variable(tf.zeros([s.rank, site.outDim]), true));
      by.set(site.site, { site, rank: s.rank, alpha: s.alpha, A, B });
    });
    return new LoraAdapters(by);
  }

  /** Adapters over given pairs (loaded or imported); checks every shape and takes ownership of the tensors. */
  static fromPairs(pairs: ReadonlyArray<{ site: LoraSite; rank: number; alpha: number; A: tf.Tensor; B: tf.Tensor }>): LoraAdapters {
    const by = new Map<string, SiteAdapter>();
    for (const p of pairs) {
      validateLora(p);
      const { site, rank } = p;
      if (p.A.shape.join(',') !== `${site.inDim},${rank}` || p.B.shape.join(',') !== `${rank},${site.outDim}`) {
        throw new LlmLabError(
          'bad-checkpoint',
          `The adapter of ${site.site} has A [${p.A.shape}] and B [${p.B.shape}], but the model needs A [${site.inDim},${rank}] and B [${rank},${site.outDim}]; the adapter belongs to another model.`,
        );
      }
      by.set(site.site, { site, rank, alpha: p.alpha, A: tf.variable(p.A, true), B: tf.variable(p.B, true) });
    }
    return new LoraAdapters(by);
  }

  delta(site: string, x: tf.Tensor): tf.Tensor | undefined {
    const a = this.bySite.get(site);
    if (!a) return undefined;
    return tf.tidy(() => tf.mul(ops.linear(ops.linear(x, a.A as tf.Tensor2D), a.B as tf.Tensor2D), a.alpha / a.rank)); // (..., out)
  }

  /** The trainable variables by stored name (`<site>.lora_A`, `<site>.lora_B`), sites in order. */
  variables(): Map<string, tf.Variable> {
    const out = new Map<string, tf.Variable>();
    for (const [site, a] of this.bySite) {
      const n = loraTensorNames(site);
      out.set(n.A, a.A);
      out.set(n.B, a.B);
    }
    return out;
  }

  /** Values the adapters train. */
  parameterCount(): number {
    let n = 0;
    for (const a of this.bySite.values()) n += a.A.size + a.B.size;
    return n;
  }

  dispose(): void {
    for (const a of this.bySite.values()) tf.dispose([a.A, a.B]);
    this.bySite.clear();
  }
}

/**
 * A head matrix W (out, in) with an adapter's correction added: W + (alpha/rank)·(A·B)ᵀ, A (in, rank) and B
 * (rank, out). Done in plain float arithmetic, value by value in one fixed order, so the same inputs give the same
 * bytes on every backend (a PEFT export stores this and an import recognises it by recomputing it).
 */
export function mergedHead(W: Float32Array, A: Float32Array, B: Float32Array, dims: { inDim: number; outDim: number; rank: number; alpha: number }): Float32Array {
  const { inDim, outDim, rank } = dims;
  const scale = dims.alpha / rank;
  const out = new Float32Array(outDim * inDim);
  for (let o = 0; o < outDim; o++) {
    for (let i = 0; i < inDim; i++) {
      let d = 0;
      for (let r = 0; r < rank; r++) d += A[i * rank + r] * B[r * outDim + o];
      out[o * inDim + i] = W[o * inDim + i] + Math.fround(scale * d);
    }
  }
  return out;
}

/**
 * A plain model whose outputs equal `model` with `adapters`: each adapted matrix gets (A·B)·alpha/rank added
 * (into its columns for q/k/v). An adapted tied head cannot change the shared token embedding, so the merged
 * model gets its own head (untied): the embedding plus the head's correction. With `skipHead` the head's adapter
 * is left out (a classifier merges its own head, see mergedHead). `model` is left as it was.
 */
export function mergeLora(model: GptModel, adapters: LoraAdapters, opts: { skipHead?: boolean } = {}): GptModel {
  const c = model.config;
  const head = opts.skipHead ? undefined : adapters.bySite.get('lm_head');
  const untie = head !== undefined && c.tiedHead;
  const tensors = new Map<string, tf.Tensor>();
  for (const [name, v] of model.params) tensors.set(name, tf.clone(v));
  if (untie) tensors.set('lm_head.weight', tf.clone(model.params.get('wte.weight')!));
  try {
    for (const a of adapters.bySite.values()) {
      const s = a.site;
      if (s.site === 'lm_head' && opts.skipHead) continue;
      const name = s.site === 'lm_head' ? 'lm_head.weight' : s.param;
      const base = tensors.get(name);
      if (!base) throw new LlmLabError('bad-checkpoint', `The adapter of ${s.site} adapts '${name}', which the base model does not have.`);
      const merged = tf.tidy(() => {
        const d = tf.mul(tf.matMul(a.A, a.B), a.alpha / a.rank); // (in, out)
        if (s.site === 'lm_head') return tf.add(base, tf.transpose(d)); // the head is stored (V, C)
        const [rows, cols] = base.shape;
        const parts: tf.Tensor[] = [];
        if (s.outOffset > 0) parts.push(tf.slice(base, [0, 0], [rows, s.outOffset]));
        parts.push(tf.add(tf.slice(base, [0, s.outOffset], [rows, s.outDim]), d));
        const rest = cols - s.outOffset - s.outDim;
        if (rest > 0) parts.push(tf.slice(base, [0, s.outOffset + s.outDim], [rows, rest]));
        return parts.length === 1 ? parts[0] : tf.concat(parts, 1);
      });
      base.dispose();
      tensors.set(name, merged);
    }
    return GptModel.fromTensors({ ...c, tiedHead: c.tiedHead && !untie }, tensors);
  } finally {
    tf.dispose([...tensors.values()]);
  }
}
