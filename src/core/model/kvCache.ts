// Key/value cache for generation: each layer's keys and values of the positions already seen, so a new
// token costs one position of compute instead of the whole context.
import { tf } from '../engine';

export class KvCache {
  private keys: (tf.Tensor4D | undefined)[];
  private values: (tf.Tensor4D | undefined)[];
  /** Positions held (the same for every layer once a forward pass has finished). */
  length = 0;

  constructor(readonly nLayers: number) {
    this.keys = new Array(nLayers).fill(undefined);
    this.values = new Array(nLayers).fill(undefined);
  }

  /**
   * Appends this step's keys and values of `layer` and returns all of them, (B, H, length+Tnew, D).
   * The cache keeps its own copies; the returned tensors belong to the cache (do not dispose them).
   */
  append(layer: number, k: tf.Tensor4D, v: tf.Tensor4D): { k: tf.Tensor4D; v: tf.Tensor4D } {
    const oldK = this.keys[layer];
    const oldV = this.values[layer];
    const newK = tf.keep(oldK ? tf.concat([oldK, k], 2) : tf.clone(k)); // (B, H, Tk, D)
    const newV = tf.keep(oldV ? tf.concat([oldV, v], 2) : tf.clone(v));
    oldK?.dispose();
    oldV?.dispose();
    this.keys[layer] = newK;
    this.values[layer] = newV;
    return { k: newK, v: newV };
  }

  /** Keeps the first `n` positions of every layer (n ≤ length); 0 empties the cache. */
  truncate(n: number): void {
    if (n >= this.length) return;
    if (n <= 0) {
      this.reset();
      return;
    }
    for (const side of [this.keys, this.values]) {
      for (let i = 0; i < this.nLayers; i++) {
        const t = side[i];
        if (!t) continue;
        side[i] = tf.keep(tf.slice(t, [0, 0, 0, 0], [t.shape[0], t.shape[1], n, t.shape[3]])); // (B, H, n, D)
        t.dispose();
      }
    }
    this.length = n;
  }

  /** Frees every cached tensor and starts empty. */
  reset(): void {
    for (const t of [...this.keys, ...this.values]) t?.dispose();
    this.keys.fill(undefined);
    this.values.fill(undefined);
    this.length = 0;
  }

  dispose(): void {
    this.reset();
  }
}
