// Pieces several commands share: the --backend flag and starting the engine, reading files with errors a
// user can act on.
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import type { OptionSpecs, FlagValues } from '../args';
import { choice, num } from '../args';
import { DEFAULT_MAX_FILE_BYTES, readTextDocument } from '../../core/data';
import type { BackendChoice, EngineInfo } from '../../core/engine';
import { BACKEND_CHOICES, describeEngine, initEngine } from '../../core/engine';
import { CancelledError, LlmLabError } from '../../core/errors';
import type { CliIo } from '../io';

export const BACKEND_OPTION: OptionSpecs = {
  backend: { type: 'string', value: 'B', help: `Compute backend: ${BACKEND_CHOICES.join(', ')} (default auto).` },
};

/** Starts the compute backend the --backend flag asks for. */
export async function startEngine(values: FlagValues): Promise<EngineInfo> {
  const which: BackendChoice = choice(values, 'backend', BACKEND_CHOICES) ?? 'auto';
  return initEngine(which);
}

/** The engine's report: the backend in use, its threads and fused ops, and why each other one is not used. */
export function describeBackend(info: EngineInfo): string[] {
  return describeEngine(info).split('\n');
}

const MB = 1024 * 1024;
/** The advice a size-capped file's message ends with. */
export const MAX_FILE_HINT = 'raise --max-file-mb';

/** The --max-file-mb flag, with the command's default. */
export function maxFileOption(defaultBytes = DEFAULT_MAX_FILE_BYTES): OptionSpecs {
  return { 'max-file-mb': { type: 'string', value: 'MB', help: `Read files up to MB megabytes; larger ones are refused (default ${defaultBytes / MB}).` } };
}

/** The --max-file-mb flag in bytes (`defaultBytes` when not given); at most `limitBytes`. */
export function maxFileBytes(values: FlagValues, defaultBytes = DEFAULT_MAX_FILE_BYTES, limitBytes = 4096 * MB): number {
  const mb = num(values, 'max-file-mb', 0, limitBytes / MB, true);
  return mb === undefined ? defaultBytes : Math.floor(mb * MB);
}

/**
 * A text file's content, read by the same rule as training data: a missing file, a folder, one over the size
 * cap, a binary or non-UTF-8 file is a user-facing error that names the file and what to do.
 */
export async function readTextFile(io: CliIo, file: string, what: string, maxBytes = DEFAULT_MAX_FILE_BYTES): Promise<string> {
  const abs = path.resolve(io.cwd, file);
  try {
    const stat = await fsp.stat(abs);
    if (stat.isDirectory()) throw new LlmLabError('bad-argument', `${what} ${abs} is a folder; give a text file.`);
  } catch (e) {
    if (e instanceof LlmLabError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new LlmLabError('not-found', `${what} ${abs} does not exist; check the path.`);
    throw new LlmLabError('io', `Could not read ${what} ${abs} (${code ?? String(e)}).`);
  }
  const r = await readTextDocument(abs, maxBytes, MAX_FILE_HINT);
  if (typeof r === 'string') throw new LlmLabError('bad-data', `${what} ${abs} cannot be used: ${r}.`);
  return r.text;
}

/**
 * Runs a token stream to its end, handing each token to `onToken`, and frees the model afterwards. A cancel
 * (Ctrl-C) ends the stream early; the answer says whether it did, so the command can report what it has.
 */
export async function drainStream<T>(stream: AsyncIterable<T>, onToken: (t: T) => void, model: { dispose(): void }): Promise<{ cancelled: boolean }> {
  try {
    for await (const t of stream) onToken(t);
    return { cancelled: false };
  } catch (e) {
    if (!(e instanceof CancelledError)) throw e;
    return { cancelled: true };
  } finally {
    model.dispose();
  }
}
