// Turns a stream of token ids into text pieces. A BPE token is a run of bytes and may end in the middle of a
// UTF-8 character (an emoji is often two or three tokens), so each piece holds only the characters that are
// complete so far; the rest waits for the next token. Joined, the pieces equal the tokenizer's decode of all ids.

/** What the stream needs of a tokenizer (the project's Tokenizer has it). */
export interface TokenBytesSource {
  tokenBytes(id: number): Uint8Array;
}

export class TokenTextStream {
  private bytes = new Uint8Array(256);
  private used = 0;
  /** Text handed out so far. */
  private emitted = '';
  private readonly streaming = new TextDecoder('utf-8', { ignoreBOM: true }); // keep a leading U+FEFF, as decode does
  private readonly whole = new TextDecoder('utf-8', { ignoreBOM: true });

  constructor(private readonly tokenizer: TokenBytesSource) {}

  /**
   * Adds a token; returns the newly completed text and whether bytes of an unfinished character are held
   * back. Decoding the whole byte run each time keeps the pieces exactly equal to one decode of everything
   * (a few kilobytes for a long generation: cheap next to a forward pass).
   */
  push(id: number): { text: string; pending: boolean } {
    const b = this.tokenizer.tokenBytes(id);
    if (this.used + b.length > this.bytes.length) {
      const grown = new Uint8Array(Math.max(this.bytes.length * 2, this.used + b.length));
      grown.set(this.bytes.subarray(0, this.used));
      this.bytes = grown;
    }
    this.bytes.set(b, this.used);
    this.used += b.length;
    const all = this.bytes.subarray(0, this.used);
    const stable = this.streaming.decode(all, { stream: true });
    this.streaming.decode(); // reset: the next call decodes from the start again
    const text = stable.slice(this.emitted.length);
    this.emitted = stable;
    return { text, pending: this.whole.decode(all) !== stable };
  }

  /** The held-back bytes as text (U+FFFD for an unfinished character), ending the stream. */
  flush(): string {
    const full = this.whole.decode(this.bytes.subarray(0, this.used));
    const rest = full.slice(this.emitted.length);
    this.emitted = full;
    return rest;
  }

  /** All text handed out. */
  get text(): string {
    return this.emitted;
  }
}
