// What the inline completions' status bar tooltip reports: requests sent to the model, cache hits, and the
// median time from request to answer over the most recent requests. Pure: no `vscode`, unit-tested.

export class CompletionStats {
  requests = 0;
  cacheHits = 0;
  cancelled = 0;
  errors = 0;
  private readonly latencies: number[] = [];

  constructor(readonly window = 200) {}

  /** A request the model answered in `ms`. */
  answered(ms: number): void {
    this.requests++;
    this.latencies.push(ms);
    if (this.latencies.length > this.window) this.latencies.shift();
  }

  /** The median of the recent answer times, or undefined before the first. */
  get medianMs(): number | undefined {
    if (this.latencies.length === 0) return undefined;
    const s = [...this.latencies].sort((a, b) => a - b);
    const m = s.length >> 1;
    return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
  }

  summary(): string {
    const median = this.medianMs;
    return [
      `${this.requests} request${this.requests === 1 ? '' : 's'} answered`,
      `${this.cacheHits} cache hit${this.cacheHits === 1 ? '' : 's'}`,
      `median latency ${median === undefined ? '—' : `${Math.round(median)} ms`}`,
      ...(this.cancelled ? [`${this.cancelled} cancelled while typing`] : []),
      ...(this.errors ? [`${this.errors} failed`] : []),
    ].join(', ');
  }
}
