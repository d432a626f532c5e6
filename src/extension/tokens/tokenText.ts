// How a token is shown in the editor's hover, and finding the token under the cursor. Pure: unit-tested.

/** "Hello" → `"Hello"` with control and space characters made visible. */
export function visibleText(text: string): string {
  return JSON.stringify(text).replace(/ /g, '·');
}

export function hexBytes(bytes: number[]): string {
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(' ');
}

/** Index of the span that contains `offset` (spans sorted, non-overlapping), or -1. */
export function spanAt(spans: readonly { start: number; end: number }[], offset: number): number {
  let lo = 0;
  let hi = spans.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const s = spans[mid];
    if (offset < s.start) hi = mid - 1;
    else if (offset >= s.end) lo = mid + 1;
    else return mid;
  }
  return -1;
}
