// The GPT-2 model in TensorFlow.js: token + position embeddings, pre-LayerNorm blocks of causal multi-head
// attention and a tanh-GELU MLP, dropout, optional qkv bias, tied or separate output head. Parameters live in
// a map named in the Hugging Face GPT-2 layout, so checkpoints read and write them by name without renaming.
import { tf } from '../engine';
import * as ops from '../engine/ops';
import { LlmLabError } from '../errors';
import { Rng } from '../rng';
import type { GptConfig } from './config';
import { validateConfig } from './config';
import type { KvCache } from './kvCache';

export interface ForwardOptions {
  /** Training mode: dropout on. Default false. */
  training?: boolean;
  /** Seed of this pass's dropout masks (vary it every step for a reproducible run). */
  seed?: number;
  /** Generation cache: keys/values of earlier positions are reused and this pass's are appended. */
  cache?: KvCache;
  /** Also return every layer's attention weights, (B, H, T, Tk) each. */
  returnAttention?: boolean;
}

/**
 * A learned term added to the output of the model's linear layers (LoRA, see core/lora). `site` names the layer:
 * `h.N.attn.c_attn` (the fused query/key/value output), `h.N.attn.c_attn.q|k|v` (one third of it),
 * `h.N.attn.c_proj`, `h.N.mlp.c_fc`, `h.N.mlp.c_proj`, `lm_head` (the output head, tied or not).
 */
export interface LinearAdapter {
  /** The term to add to site's output for its input x (..., in) → (..., out); undefined when the site has none. */
  delta(site: string, x: tf.Tensor): tf.Tensor | undefined;
  /** Frees the adapter's tensors (the model calls it when disposed). */
  dispose?(): void;
}

export interface ForwardResult {
  logits: tf.Tensor3D; // (B, T, V)
  attention?: tf.Tensor4D[];
}

/** Shape of every parameter of a config, in the Hugging Face GPT-2 layout and order. */
export function parameterShapes(c: GptConfig): Map<string, number[]> {
  const C = c.embDim;
  const shapes = new Map<string, number[]>();
  shapes.set('wte.weight', [c.vocabSize, C]);
  shapes.set('wpe.weight', [c.contextLength, C]);
  for (let i = 0; i < c.nLayers; i++) {
    const h = `h.${i}`;
    shapes.set(`${h}.ln_1.weight`, [C]);
    shapes.set(`${h}.ln_1.bias`, [C]);
    shapes.set(`${h}.attn.c_attn.weight`, [C, 3 * C]);
    if (c.qkvBias) shapes.set(`${h}.attn.c_attn.bias`, [3 * C]);
    shapes.set(`${h}.attn.c_proj.weight`, [C, C]);
    shapes.set(`${h}.attn.c_proj.bias`, [C]);
    shapes.set(`${h}.ln_2.weight`, [C]);
    shapes.set(`${h}.ln_2.bias`, [C]);
    shapes.set(`${h}.mlp.c_fc.weight`, [C, 4 * C]);
    shapes.set(`${h}.mlp.c_fc.bias`, [4 * C]);
    shapes.set(`${h}.mlp.c_proj.weight`, [4 * C, C]);
    shapes.set(`${h}.mlp.c_proj.bias`, [C]);
  }
  shapes.set('ln_f.weight', [C]);
  shapes.set('ln_f.bias', [C]);
  if (!c.tiedHead) shapes.set('lm_head.weight', [c.vocabSize, C]);
  return shapes;
}

/** Whether AdamW's weight decay applies: matrices and embeddings yes, biases and LayerNorm no. */
export function decays(name: string): boolean {
  return !name.endsWith('.bias') && !/\bln_(1|2|f)\./.test(name);
}

export class GptModel {
  /** Adapters wrapped around the linear layers (LoRA); their output is added to each adapted layer's. */
  adapter?: LinearAdapter;

  private constructor(
    readonly config: GptConfig,
    readonly params: Map<string, tf.Variable>,
  ) {}

  /** y plus the adapter's term for `site` (y itself without one). */
  private adapted(site: string, x: tf.Tensor, y: tf.Tensor): tf.Tensor {
    const d = this.adapter?.delta(site, x);
    return d ? tf.add(y, d) : y;
  }

  /**
   * A freshly initialised model, as GPT-2 does: weights N(0, 0.02), residual projections scaled by
   * 1/√(2·layers), biases 0, LayerNorm scale 1. The weights are drawn in JavaScript (Rng.fillNormal, one
   * stream per parameter), so the same seed gives the same weights on every backend.
   */
  static create(config: GptConfig, seed = 0): GptModel {
    validateConfig(config);
    const params = new Map<string, tf.Variable>();
    const residualStd = 0.02 / Math.sqrt(2 * config.nLayers);
    let i = 0;
    for (const [name, shape] of parameterShapes(config)) {
      const paramSeed = seed * 1000 + i++;
      const init = tf.tidy(() => {
        if (name.endsWith('.bias')) return tf.zeros(shape);
        if (/\bln_(1|2|f)\.weight$/.test(name)) return tf.ones(shape);
        const std = name.endsWith('c_proj.weight') ? residualStd : 0.02;
        const size = shape.reduce((a, b) => a * b, 1);
        return tf.tensor(new Rng(paramSeed).fillNormal(new Float32Array(size), std), shape, 'float32');
      });
      params.set(name, tf.variable(init, true));
      init.dispose();
    }
    return new GptModel(config, params);
  }

  /** A model over existing tensors (a loaded checkpoint); checks every name and shape, takes ownership. */
  static fromTensors(config: GptConfig, tensors: Map<string, tf.Tensor>): GptModel {
    validateConfig(config);
    const params = new Map<string, tf.Variable>();
    for (const [name, shape] of parameterShapes(config)) {
      const t = tensors.get(name);
      if (!t) throw new LlmLabError('bad-checkpoint', `The weights have no tensor '${name}' that this model needs.`);
      if (t.shape.join(',') !== shape.join(',')) {
        throw new LlmLabError(
          'bad-checkpoint',
          `Tensor '${name}' has shape [${t.shape}] but the model config needs [${shape}]; config.json and the weights do not match.`,
        );
      }
      params.set(name, tf.variable(t.dtype === 'float32' ? t : tf.cast(t, 'float32'), true));
    }
    return new GptModel(config, params);
  }

  private p(name: string): tf.Variable {
    const v = this.params.get(name);
    if (!v) throw new Error(`GptModel has no parameter ${name}`);
    return v;
  }

  /**
   * The final hidden states (after the last LayerNorm) of every position of `ids` (B, T) int32: what a head
   * reads. With a cache, T new positions after the cached ones.
   */
  hidden(ids: tf.Tensor2D, opts: ForwardOptions = {}): { hidden: tf.Tensor3D; attention?: tf.Tensor4D[] } {
    const c = this.config;
    const [B, T] = ids.shape;
    const offset = opts.cache?.length ?? 0;
    if (offset + T > c.contextLength) {
      throw new LlmLabError(
        'bad-argument',
        `The input has ${offset + T} positions but the model's context length is ${c.contextLength}.`,
      );
    }
    const training = opts.training ?? false;
    const rate = training ? c.dropRate : 0;
    let seedCounter = (opts.seed ?? 0) * 7919;
    const nextSeed = (): number => seedCounter++;
    const H = c.nHeads;
    const D = c.embDim / H;
    const attention: tf.Tensor4D[] = [];

    const hidden = tf.tidy(() => {
      const tok = ops.embedding(ids, this.p('wte.weight') as tf.Tensor2D); // (B, T, C)
      const pos = tf.slice(this.p('wpe.weight'), [offset, 0], [T, c.embDim]); // (T, C)
      let x = ops.dropout(tf.add(tok, pos), rate, nextSeed()) as tf.Tensor3D; // (B, T, C)
      for (let i = 0; i < c.nLayers; i++) {
        const h = `h.${i}`;
        const a = ops.layerNorm(x, this.p(`${h}.ln_1.weight`) as tf.Tensor1D, this.p(`${h}.ln_1.bias`) as tf.Tensor1D);
        const qkvBias = c.qkvBias ? (this.p(`${h}.attn.c_attn.bias`) as tf.Tensor1D) : undefined;
        const qkv = this.adapted(`${h}.attn.c_attn`, a, ops.linear(a, this.p(`${h}.attn.c_attn.weight`) as tf.Tensor2D, qkvBias)); // (B, T, 3C)
        const heads = (t: tf.Tensor): tf.Tensor4D => tf.transpose(tf.reshape(t, [B, T, H, D]), [0, 2, 1, 3]); // (B, H, T, D)
        const [q0, k0, v0] = tf.split(qkv, 3, -1).map((t, j) => this.adapted(`${h}.attn.c_attn.${'qkv'[j]}`, a, t)); // (B, T, C) each
        let k = heads(k0);
        let v = heads(v0);
        if (opts.cache) ({ k, v } = opts.cache.append(i, k, v)); // (B, H, offset+T, D)
        const att = ops.causalAttention(heads(q0), k, v, {
          offset,
          dropRate: rate,
          seed: nextSeed(),
          returnWeights: opts.returnAttention,
        });
        if (att.weights) attention.push(tf.keep(att.weights));
        const merged = tf.reshape(tf.transpose(att.out, [0, 2, 1, 3]), [B, T, c.embDim]); // (B, T, C)
        const proj = this.adapted(`${h}.attn.c_proj`, merged, ops.linear(merged, this.p(`${h}.attn.c_proj.weight`) as tf.Tensor2D, this.p(`${h}.attn.c_proj.bias`) as tf.Tensor1D));
        x = tf.add(x, ops.dropout(proj, rate, nextSeed())) as tf.Tensor3D;
        const m = ops.layerNorm(x, this.p(`${h}.ln_2.weight`) as tf.Tensor1D, this.p(`${h}.ln_2.bias`) as tf.Tensor1D);
        const up = ops.gelu(this.adapted(`${h}.mlp.c_fc`, m, ops.linear(m, this.p(`${h}.mlp.c_fc.weight`) as tf.Tensor2D, this.p(`${h}.mlp.c_fc.bias`) as tf.Tensor1D))); // (B, T, 4C)
        const down = this.adapted(`${h}.mlp.c_proj`, up, ops.linear(up, this.p(`${h}.mlp.c_proj.weight`) as tf.Tensor2D, this.p(`${h}.mlp.c_proj.bias`) as tf.Tensor1D)); // (B, T, C)
        x = tf.add(x, ops.dropout(down, rate, nextSeed())) as tf.Tensor3D;
      }
      return ops.layerNorm(x, this.p('ln_f.weight') as tf.Tensor1D, this.p('ln_f.bias') as tf.Tensor1D) as tf.Tensor3D; // (B, T, C)
    });
    if (opts.cache) opts.cache.length = offset + T;
    return opts.returnAttention ? { hidden, attention } : { hidden };
  }

  /** The language-model head: next-token logits of hidden states (B, T, C) → (B, T, V), tied to wte or lm_head. */
  lmHead(hidden: tf.Tensor3D): tf.Tensor3D {
    const c = this.config;
    const [B, T] = hidden.shape;
    return tf.tidy(() => {
      const flat = tf.reshape(hidden, [B * T, c.embDim]) as tf.Tensor2D; // (N, C)
      const head = c.tiedHead ? this.p('wte.weight') : this.p('lm_head.weight');
      const flatLogits = this.adapted('lm_head', flat, ops.lmLogits(flat, head as tf.Tensor2D)); // (N, V)
      return tf.reshape(flatLogits, [B, T, c.vocabSize]) as tf.Tensor3D; // (B, T, V)
    });
  }

  /** Logits for every position of `ids` (B, T) int32 (hidden states through the LM head); with a cache, T new positions after the cached ones. */
  forward(ids: tf.Tensor2D, opts: ForwardOptions = {}): ForwardResult {
    const { hidden, attention } = this.hidden(ids, opts);
    const logits = tf.tidy(() => this.lmHead(hidden));
    hidden.dispose();
    return opts.returnAttention ? { logits, attention } : { logits };
  }

  /** Mean next-token cross-entropy of `targets` (B, T) given `inputs` (B, T); -100 targets are ignored. */
  loss(inputs: tf.Tensor2D, targets: tf.Tensor2D, opts: { training?: boolean; seed?: number } = {}): tf.Scalar {
    return tf.tidy(() => {
      const { logits } = this.forward(inputs, opts);
      const [B, T, V] = logits.shape;
      return ops.crossEntropy(tf.reshape(logits, [B * T, V]) as tf.Tensor2D, tf.reshape(targets, [B * T]) as tf.Tensor1D);
    });
  }

  /** Parameter values as plain arrays, in the layout order (for checkpoints and tests). */
  trainableVariables(): tf.Variable[] {
    return [...this.params.values()];
  }

  dispose(): void {
    this.adapter?.dispose?.();
    this.adapter = undefined;
    for (const v of this.params.values()) v.dispose();
    this.params.clear();
  }
}
