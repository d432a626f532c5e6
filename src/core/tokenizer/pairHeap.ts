// The BPE trainer's priority queue: pair slots keyed by count, highest first; on equal counts the pair with the
// smaller left id, then the smaller right id (the trainer's stated tie-break). A binary heap over two parallel
// arrays, so an entry costs no object.

export class MaxPairHeap {
  private readonly counts: number[] = [];
  private readonly slots: number[] = [];

  /** `left[s]` and `right[s]` are the token ids of slot s, used to break ties. */
  constructor(
    private readonly left: readonly number[],
    private readonly right: readonly number[],
  ) {}

  get size(): number {
    return this.slots.length;
  }

  /** Count of the best entry (undefined behaviour when empty). */
  topCount(): number {
    return this.counts[0];
  }

  push(count: number, slot: number): void {
    const { counts, slots } = this;
    let i = slots.length;
    counts.push(count);
    slots.push(slot);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.before(count, slot, counts[p], slots[p])) break;
      counts[i] = counts[p];
      slots[i] = slots[p];
      i = p;
    }
    counts[i] = count;
    slots[i] = slot;
  }

  /** Removes the best entry and returns its slot. */
  pop(): number {
    const { counts, slots } = this;
    const top = slots[0];
    const lastCount = counts.pop() as number;
    const lastSlot = slots.pop() as number;
    const n = slots.length;
    if (n === 0) return top;
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && this.before(counts[c + 1], slots[c + 1], counts[c], slots[c])) c++;
      if (!this.before(counts[c], slots[c], lastCount, lastSlot)) break;
      counts[i] = counts[c];
      slots[i] = slots[c];
      i = c;
    }
    counts[i] = lastCount;
    slots[i] = lastSlot;
    return top;
  }

  /** Whether entry (ca, sa) comes out before (cb, sb). */
  private before(ca: number, sa: number, cb: number, sb: number): boolean {
    if (ca !== cb) return ca > cb;
    const la = this.left[sa];
    const lb = this.left[sb];
    return la !== lb ? la < lb : this.right[sa] < this.right[sb];
  }
}
