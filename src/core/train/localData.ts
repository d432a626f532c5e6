// TEMPORARY stand-ins for the data pipeline of branch tokdata (TokenWindows, splitTokens, BatchSampler), with
// the planned API, so training works before that lands. Replaced by imports from ../data on merge.

export class TokenWindows {
  readonly count: number;
  constructor(
    private readonly ids: Int32Array,
    readonly maxLength: number,
    private readonly stride: number,
  ) {
    this.count = ids.length > maxLength ? Math.floor((ids.length - maxLength - 1) / stride) + 1 : 0;
  }
  input(i: number): Int32Array {
    return this.ids.subarray(i * this.stride, i * this.stride + this.maxLength);
  }
  target(i: number): Int32Array {
    return this.ids.subarray(i * this.stride + 1, i * this.stride + this.maxLength + 1);
  }
}

export function splitTokens(ids: Int32Array, valFraction: number): { train: Int32Array; val: Int32Array } {
  const cut = Math.round(ids.length * (1 - valFraction));
  return { train: ids.subarray(0, cut), val: ids.subarray(cut) };
}

function mulberry(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface SamplerState {
  epoch: number;
  cursor: number;
}

export class BatchSampler {
  private epoch = 0;
  private cursor = 0;
  private order: number[] = [];
  constructor(
    private readonly windows: TokenWindows,
    private readonly batchSize: number,
    private readonly seed: number,
  ) {
    this.shuffle();
  }
  private shuffle(): void {
    const rand = mulberry(this.seed * 1_000_003 + this.epoch);
    this.order = Array.from({ length: this.windows.count }, (_, i) => i);
    for (let i = this.order.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [this.order[i], this.order[j]] = [this.order[j], this.order[i]];
    }
  }
  next(): { inputs: Int32Array; targets: Int32Array; batchSize: number; seqLen: number } {
    if (this.cursor + this.batchSize > this.order.length) {
      this.epoch++;
      this.cursor = 0;
      this.shuffle();
    }
    const T = this.windows.maxLength;
    const inputs = new Int32Array(this.batchSize * T);
    const targets = new Int32Array(this.batchSize * T);
    for (let r = 0; r < this.batchSize; r++) {
      const w = this.order[this.cursor + r];
      inputs.set(this.windows.input(w), r * T);
      targets.set(this.windows.target(w), r * T);
    }
    this.cursor += this.batchSize;
    return { inputs, targets, batchSize: this.batchSize, seqLen: T };
  }
  getState(): SamplerState {
    return { epoch: this.epoch, cursor: this.cursor };
  }
  setState(s: SamplerState): void {
    this.epoch = s.epoch;
    this.cursor = s.cursor;
    this.shuffle();
  }
}
