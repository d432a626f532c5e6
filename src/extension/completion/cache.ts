// The inline completions' cache: the last suggestions, least recently used dropped first, keyed by the text
// around the cursor and the settings that shape a suggestion. Typing the first characters of a suggestion
// finds it again (its rest is served) without asking the model. Pure: no `vscode`, unit-tested.

export interface CompletionKey {
  /** Text before the cursor (any length; only its last `tailChars` characters are remembered). */
  prefix: string;
  /** Text after the cursor, as sent to the model. */
  suffix: string;
  /** Everything else that changes the answer (model, mode, limits, temperature) as one string. */
  settings: string;
}

interface Entry {
  tail: string;
  /** True when `tail` is the whole prefix. */
  whole: boolean;
  suffix: string;
  settings: string;
  text: string;
}

export class CompletionCache {
  private entries: Entry[] = []; // most recently used first

  constructor(
    readonly capacity = 100,
    readonly tailChars = 2000,
  ) {}

  get size(): number {
    return this.entries.length;
  }

  /**
   * The suggestion for this context: an exact hit, or the rest of a cached suggestion whose first
   * characters were typed since. Undefined on a miss; '' when the model had nothing to say here.
   */
  get(key: CompletionKey): string | undefined {
    for (let i = 0; i < this.entries.length; i++) {
      const e = this.entries[i];
      if (e.settings !== key.settings || e.suffix !== key.suffix) continue;
      const typed = this.typedSince(e, key.prefix);
      if (typed === undefined) continue;
      this.entries.splice(i, 1);
      this.entries.unshift(e);
      return e.text.slice(typed);
    }
    return undefined;
  }

  set(key: CompletionKey, text: string): void {
    const whole = key.prefix.length <= this.tailChars;
    const tail = whole ? key.prefix : key.prefix.slice(key.prefix.length - this.tailChars);
    this.entries = this.entries.filter((e) => !(e.settings === key.settings && e.suffix === key.suffix && e.tail === tail && e.whole === whole));
    this.entries.unshift({ tail, whole, suffix: key.suffix, settings: key.settings, text });
    if (this.entries.length > this.capacity) this.entries.length = this.capacity;
  }

  clear(): void {
    this.entries = [];
  }

  /** How many of the suggestion's characters were typed after the cached context (less than all of them). */
  private typedSince(e: Entry, prefix: string): number | undefined {
    const most = e.text === '' ? 0 : e.text.length - 1;
    for (let t = 0; t <= most; t++) {
      const before = prefix.length - t;
      if (before < 0) break;
      if (t > 0 && prefix.charCodeAt(before) !== e.text.charCodeAt(0)) continue;
      if (t > 0 && !prefix.endsWith(e.text.slice(0, t))) continue;
      const head = prefix.slice(0, before);
      if (e.whole ? head === e.tail : head.endsWith(e.tail)) return t;
    }
    return undefined;
  }
}
