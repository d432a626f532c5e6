// Next-token logits for generation with a key/value cache that outlives one call: each call gives the whole
// token sequence, and only the positions after the longest prefix the cache already holds are computed. A
// decode step is then one new position; a completion asked again after an edit near the cursor reuses the
// keys and values of everything before the edit (GPT-2's positions are absolute, so position i's keys and
// values depend on tokens 0..i alone and stay valid while those tokens are the same).
// On a backend with a fused forward pass (native) a call is one engine call over a preallocated cache;
// elsewhere, and with an adapter (LoRA) attached, the model's tensor path runs with a KvCache.
import { tf } from '../engine';
import { fusedForward } from '../engine/fusedForward';
import type { FusedGptForward, FusedKvCache } from '../engine/fusedForward';
import { LlmLabError } from '../errors';
import type { GptModel } from './gpt';
import { KvCache } from './kvCache';

export interface DecodeSessionOptions {
  /** Use the backend's fused forward pass when it has one (default true); false runs the tensor path. */
  fused?: boolean;
}

/** Length of the longest common prefix of a and b. */
function commonPrefix(a: readonly number[], b: readonly number[]): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}

export class DecodeSession {
  /** Tokens whose keys and values the cache holds, by position. */
  private held: number[] = [];
  private fusedCache?: FusedKvCache;
  private kv?: KvCache;
  private readonly wantFused: boolean;

  constructor(
    readonly model: GptModel,
    opts: DecodeSessionOptions = {},
  ) {
    this.wantFused = opts.fused ?? true;
  }

  /** Positions computed by the last call (for tests and statistics). */
  lastComputed = 0;
  /** Whether the last call ran the backend's fused pass (for tests and statistics). */
  lastFused = false;

  /**
   * The next-token logits (V) after `ids` (at most the context length, at least one token), computing the
   * positions the cache does not hold yet (always at least the last one).
   */
  async logits(ids: readonly number[]): Promise<Float32Array> {
    const c = this.model.config;
    if (ids.length === 0 || ids.length > c.contextLength) {
      throw new LlmLabError('bad-argument', `A forward pass needs 1 to ${c.contextLength} tokens, got ${ids.length}.`);
    }
    const fwd = this.fusedPass();
    this.lastFused = !!fwd;
    const keep = Math.min(commonPrefix(this.held, ids), ids.length - 1);
    this.held.length = keep; // a failure below leaves the cache holding only what is still right
    this.lastComputed = ids.length - keep;
    if (fwd) {
      const out = this.fusedLogits(fwd, ids, keep);
      this.held = [...ids];
      return out;
    }
    const row = this.tensorRow(ids, keep);
    this.held = [...ids]; // before the read, so a call that runs meanwhile sees what the cache holds
    try {
      return (await row.data()) as Float32Array;
    } finally {
      row.dispose();
    }
  }

  /** Frees the tensor path's cached tensors (the fused cache is plain memory); the next call starts afresh. */
  release(): void {
    this.kv?.dispose();
    this.kv = undefined;
    if (!this.fusedCache) this.held = [];
  }

  dispose(): void {
    this.release();
    this.fusedCache = undefined;
    this.held = [];
  }

  /** The fused pass to use now, if any; switching between the two paths starts the cache afresh. */
  private fusedPass(): FusedGptForward | undefined {
    const fwd = this.wantFused && !this.model.adapter ? fusedForward(tf.getBackend()) : undefined;
    if (fwd && this.kv) this.release();
    if (!fwd && this.fusedCache) {
      this.fusedCache = undefined;
      this.held = [];
    }
    return fwd;
  }

  private fusedLogits(fwd: FusedGptForward, ids: readonly number[], keep: number): Float32Array {
    const c = this.model.config;
    if (!this.fusedCache) {
      const size = c.nLayers * c.contextLength * c.embDim;
      this.fusedCache = { k: new Float32Array(size), v: new Float32Array(size) };
      this.held.length = 0;
      keep = 0;
      this.lastComputed = ids.length;
    }
    const p = (name: string): tf.Tensor | undefined => this.model.params.get(name);
    const weights: (tf.Tensor | undefined)[] = [p('wte.weight'), p('wpe.weight'), p('ln_f.weight'), p('ln_f.bias'), p(c.tiedHead ? 'wte.weight' : 'lm_head.weight')];
    for (let i = 0; i < c.nLayers; i++) {
      const h = `h.${i}`;
      for (const n of ['ln_1.weight', 'ln_1.bias', 'attn.c_attn.weight', 'attn.c_attn.bias', 'attn.c_proj.weight', 'attn.c_proj.bias',
        'ln_2.weight', 'ln_2.bias', 'mlp.c_fc.weight', 'mlp.c_fc.bias', 'mlp.c_proj.weight', 'mlp.c_proj.bias']) {
        weights.push(p(`${h}.${n}`));
      }
    }
    return fwd(weights, c, Int32Array.from(ids.slice(keep)), keep, this.fusedCache);
  }

  /** The last row's logits (V) as a tensor, computed with the KvCache. */
  private tensorRow(ids: readonly number[], keep: number): tf.Tensor {
    const m = this.model;
    if (!this.kv) {
      this.kv = new KvCache(m.config.nLayers);
      keep = 0;
      this.lastComputed = ids.length;
    }
    const kv = this.kv;
    kv.truncate(keep);
    const fresh = ids.slice(kv.length);
    try {
      return tf.tidy(() => {
        const x = tf.tensor2d(fresh, [1, fresh.length], 'int32'); // (1, T)
        const { hidden } = m.hidden(x, { cache: kv }); // (1, T, C)
        const last = tf.slice(hidden, [0, fresh.length - 1, 0], [1, 1, m.config.embDim]) as tf.Tensor3D; // (1, 1, C)
        return tf.reshape(m.lmHead(last), [m.config.vocabSize]); // (V)
      });
    } catch (e) {
      this.release(); // some layers may hold this pass's positions already
      throw e;
    }
  }
}
