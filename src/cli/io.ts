// Where the CLI's output goes and what it knows of its terminal. Commands write through a CliIo, so tests run
// them in-process with captured output and the real entry point wires them to the process.

/** Something text can be written to. */
export interface TextSink {
  write(text: string): void;
  /** Resolves once what was written has been taken by the reader (a pipe's buffer drained), so a command that
   *  writes a lot waits for a slow reader instead of holding all its output in memory. */
  drained?(): Promise<void>;
}

export interface CliIo {
  stdout: TextSink;
  stderr: TextSink;
  /** Whether stderr is a terminal (progress bars redraw in place there; plain lines otherwise). */
  isTTY: boolean;
  /** Terminal width, for progress bars. */
  columns: number;
  /** Fires on Ctrl-C: long work stops cleanly at the next step. */
  signal: AbortSignal;
  /** Folder relative paths are taken from. */
  cwd: string;
}

/** Writes a line. */
export function println(sink: TextSink, line = ''): void {
  sink.write(line + '\n');
}

/** Writes a value as one JSON document (for --json). */
export function printJson(io: CliIo, value: unknown): void {
  io.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

/** An io that collects output in strings: for tests and for running commands inside other tools. */
export function captureIo(opts: { signal?: AbortSignal; cwd?: string; isTTY?: boolean } = {}): CliIo & { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return {
    stdout: { write: (s) => void (out += s) },
    stderr: { write: (s) => void (err += s) },
    isTTY: opts.isTTY ?? false,
    columns: 100,
    signal: opts.signal ?? new AbortController().signal,
    cwd: opts.cwd ?? process.cwd(),
    out: () => out,
    err: () => err,
  };
}
