// Batches of training windows: a seeded shuffle of the window order every epoch, batches of B windows laid
// out row-major as (B, T) Int32Arrays. The sampler's state (epoch, position, the rng state that shuffled this
// epoch) is small and JSON-safe, so a resumed run sees exactly the batches it would have seen.
import { LlmLabError } from '../errors';
import { Rng } from '../rng';
import type { TokenWindows } from './dataset';

export interface Batch {
  /** Row-major (B, T) input ids. */
  inputs: Int32Array;
  /** Row-major (B, T) target ids: each input row shifted one token ahead. */
  targets: Int32Array;
  batchSize: number;
  seqLen: number;
}

export interface SamplerState {
  /** Completed passes over the windows. */
  epoch: number;
  /** Windows of this epoch's order already served. */
  position: number;
  /** Rng state from just before this epoch's shuffle. */
  rng: number[];
  /** Checked on restore: the state only fits the same windows and batch size. */
  windowCount: number;
  batchSize: number;
}

export interface SamplerOptions {
  /** Shuffle the window order each epoch (default true); false serves windows in stream order. */
  shuffle?: boolean;
}

/** Serves full batches forever; the windows left over at the end of an epoch (fewer than B) are skipped, as with drop_last. */
export class BatchSampler {
  private rng: Rng;
  private epochRng: number[] = [];
  private order: Int32Array;
  private _epoch = 0;
  private _position = 0;
  private readonly shuffle: boolean;

  constructor(
    readonly windows: TokenWindows,
    readonly batchSize: number,
    seed: number,
    opts: SamplerOptions = {},
  ) {
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new LlmLabError('bad-argument', `The batch size must be a whole number >= 1, got ${batchSize}.`);
    }
    if (windows.count < batchSize) {
      throw new LlmLabError(
        'bad-data',
        `The text gives only ${windows.count} window(s) of ${windows.maxLength + 1} tokens, fewer than one batch of ${batchSize}: ` +
          `use more text, a smaller batch size, context length or stride.`,
      );
    }
    this.shuffle = opts.shuffle ?? true;
    this.rng = new Rng(seed);
    this.order = new Int32Array(windows.count);
    this.startEpoch();
  }

  get epoch(): number {
    return this._epoch;
  }

  /** Windows of the current epoch already served. */
  get position(): number {
    return this._position;
  }

  /** Full batches per epoch. */
  get batchesPerEpoch(): number {
    return Math.floor(this.windows.count / this.batchSize);
  }

  next(): Batch {
    if (this._position + this.batchSize > this.order.length) {
      this._epoch++;
      this.startEpoch();
    }
    const T = this.windows.maxLength;
    const B = this.batchSize;
    const inputs = new Int32Array(B * T); // (B, T)
    const targets = new Int32Array(B * T); // (B, T)
    for (let b = 0; b < B; b++) {
      const w = this.order[this._position + b];
      inputs.set(this.windows.input(w), b * T);
      targets.set(this.windows.target(w), b * T);
    }
    this._position += B;
    return { inputs, targets, batchSize: B, seqLen: T };
  }

  getState(): SamplerState {
    return {
      epoch: this._epoch,
      position: this._position,
      rng: [...this.epochRng],
      windowCount: this.windows.count,
      batchSize: this.batchSize,
    };
  }

  setState(s: SamplerState): void {
    if (s.windowCount !== this.windows.count || s.batchSize !== this.batchSize) {
      throw new LlmLabError(
        'bad-checkpoint',
        `The saved data position is for ${s.windowCount} windows in batches of ${s.batchSize}, but this run has ` +
          `${this.windows.count} windows in batches of ${this.batchSize}; resume with the same data and settings, or start fresh.`,
      );
    }
    if (!Number.isInteger(s.position) || s.position < 0 || s.position > this.windows.count || !Number.isInteger(s.epoch) || s.epoch < 0) {
      throw new LlmLabError('bad-checkpoint', `The saved data position (epoch ${s.epoch}, position ${s.position}) is not valid; start fresh.`);
    }
    this.rng = Rng.fromState(s.rng);
    this._epoch = s.epoch;
    this.startEpoch();
    this._position = s.position;
  }

  private startEpoch(): void {
    this.epochRng = this.rng.getState();
    for (let i = 0; i < this.order.length; i++) this.order[i] = i;
    if (this.shuffle) this.rng.shuffle(this.order);
    this._position = 0;
  }
}

/** Every window once, in order, in batches of up to batchSize (the last may be smaller): for evaluation. */
export function* sequentialBatches(windows: TokenWindows, batchSize: number): Generator<Batch> {
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new LlmLabError('bad-argument', `The batch size must be a whole number >= 1, got ${batchSize}.`);
  }
  const T = windows.maxLength;
  for (let first = 0; first < windows.count; first += batchSize) {
    const B = Math.min(batchSize, windows.count - first);
    const inputs = new Int32Array(B * T); // (B, T)
    const targets = new Int32Array(B * T); // (B, T)
    for (let b = 0; b < B; b++) {
      inputs.set(windows.input(first + b), b * T);
      targets.set(windows.target(first + b), b * T);
    }
    yield { inputs, targets, batchSize: B, seqLen: T };
  }
}
