// The training batches of instruction fine-tuning, as the book's DataLoader serves them (shuffle=True,
// drop_last=True): every epoch the training records in a fresh seeded order, cut into batches of batchSize
// (a last, short batch is dropped), each collated as the book's custom_collate_fn. The position (epoch and
// batch) is the whole state, so a resumed run sees exactly the batches an uninterrupted one would.
import { LlmLabError } from '../errors';
import { Rng } from '../rng';
import type { TokenBatch } from '../train/step';
import type { BatchSource } from '../train/trainer';
import type { EncodedExample } from './collate';
import { collateInstructions } from './collate';

export interface RecordBatchState {
  epoch: number;
  /** Batches of this epoch already served. */
  batch: number;
}

/** Seeded order of n records in an epoch (Fisher–Yates over a generator seeded by seed and epoch). */
export function epochOrder(n: number, seed: number, epoch: number): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  const rng = new Rng(seed * 100003 + epoch);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

export class RecordBatches implements BatchSource<TokenBatch> {
  private state: RecordBatchState = { epoch: 0, batch: 0 };
  private order: number[];
  /** Rows × positions of the last batch served. */
  lastTokens = 0;

  constructor(
    private readonly examples: readonly EncodedExample[],
    private readonly batchSize: number,
    private readonly seed: number,
    private readonly collate: { padId: number; maxLength: number; maskPrompt: boolean },
  ) {
    if (this.batchesPerEpoch < 1) {
      throw new LlmLabError(
        'bad-data',
        `There are ${examples.length} training record(s), fewer than one batch of ${batchSize}; give more records or a smaller batch size.`,
      );
    }
    this.order = epochOrder(examples.length, seed, 0);
  }

  /** Full batches in an epoch (the last, short one is dropped). */
  get batchesPerEpoch(): number {
    return Math.floor(this.examples.length / this.batchSize);
  }

  next(): TokenBatch {
    if (this.state.batch >= this.batchesPerEpoch) {
      this.state = { epoch: this.state.epoch + 1, batch: 0 };
      this.order = epochOrder(this.examples.length, this.seed, this.state.epoch);
    }
    const from = this.state.batch * this.batchSize;
    const items = this.order.slice(from, from + this.batchSize).map((i) => this.examples[i]);
    this.state = { ...this.state, batch: this.state.batch + 1 };
    const b = collateInstructions(items, this.collate);
    this.lastTokens = b.batchSize * b.seqLen;
    return b;
  }

  getState(): RecordBatchState {
    return { ...this.state };
  }

  setState(s: unknown): void {
    const st = s as Partial<RecordBatchState> | null;
    if (!st || !Number.isInteger(st.epoch) || !Number.isInteger(st.batch) || st.epoch! < 0 || st.batch! < 0) {
      throw new LlmLabError('bad-checkpoint', 'The checkpoint does not record a position in the instruction data; resume from an earlier checkpoint or start a new run.');
    }
    this.state = { epoch: st.epoch!, batch: st.batch! };
    this.order = epochOrder(this.examples.length, this.seed, this.state.epoch);
  }
}
