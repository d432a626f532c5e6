// AdamW over named variables (the trained ones of a task): one pair of moment tensors per parameter, decoupled weight decay on matrices and
// embeddings only (never biases or LayerNorm, see decays()), and the update done by the engine's `adamw` op
// so a backend can fuse it. Moments are named like PyTorch's (`exp_avg.<param>`, `exp_avg_sq.<param>`) when
// saved, so a resumed run continues exactly.
import { tf } from '../engine';
import * as ops from '../engine/ops';
import { LlmLabError } from '../errors';
import { decays } from '../model/gpt';

export interface AdamWOptions {
  beta1: number;
  beta2: number;
  eps: number;
  /** Decoupled weight decay of decaying parameters. */
  weightDecay: number;
}

/** A float32 tensor as saved in a training checkpoint. */
export interface SavedTensor {
  shape: number[];
  data: Float32Array;
}

export class AdamW {
  private readonly moments = new Map<string, { m: tf.Variable; v: tf.Variable }>();

  /** `model.params`: the variables to update, by name (a GptModel, or a task's trained parameters). */
  constructor(
    private readonly model: { readonly params: Map<string, tf.Variable> },
    readonly options: AdamWOptions,
  ) {
    for (const [name, p] of model.params) {
      const zeros = (): tf.Variable => tf.tidy(() => tf.variable(tf.zerosLike(p), false)); // tidy frees the temporary
      this.moments.set(name, { m: zeros(), v: zeros() });
    }
  }

  /** Applies update number `step` (1-based) with learning rate `lr` from gradients by parameter name. */
  update(grads: Map<string, tf.Tensor>, lr: number, step: number): void {
    const o = this.options;
    for (const [name, p] of this.model.params) {
      const g = grads.get(name);
      if (!g) continue; // a parameter the loss does not touch
      const { m, v } = this.moments.get(name)!;
      ops.adamw(p, g, m, v, { lr, beta1: o.beta1, beta2: o.beta2, eps: o.eps, weightDecay: decays(name) ? o.weightDecay : 0, step });
    }
  }

  /** The moments by saved name; the tensors stay owned by the optimizer. */
  stateTensors(): Map<string, tf.Tensor> {
    const out = new Map<string, tf.Tensor>();
    for (const [name, { m, v }] of this.moments) {
      out.set(`exp_avg.${name}`, m);
      out.set(`exp_avg_sq.${name}`, v);
    }
    return out;
  }

  /** Restores saved moments; every parameter's pair must be there with the right shape. */
  loadState(saved: Map<string, SavedTensor>, file: string): void {
    for (const [name, { m, v }] of this.moments) {
      for (const [key, target] of [[`exp_avg.${name}`, m], [`exp_avg_sq.${name}`, v]] as const) {
        const t = saved.get(key);
        if (!t || t.shape.join(',') !== target.shape.join(',')) {
          throw new LlmLabError(
            'bad-checkpoint',
            `${file}: optimizer tensor '${key}' is ${t ? `of shape [${t.shape}], not [${target.shape}]` : 'missing'}; resume from another checkpoint or start a new run.`,
          );
        }
        tf.tidy(() => target.assign(tf.tensor(t.data, t.shape, 'float32')));
      }
    }
  }

  dispose(): void {
    for (const { m, v } of this.moments.values()) tf.dispose([m, v]);
    this.moments.clear();
  }
}
