// Pieces several commands share: the --backend flag and starting the engine, reading files with errors a
// user can act on.
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import type { OptionSpecs, FlagValues } from '../args';
import { choice } from '../args';
import type { BackendChoice, EngineInfo } from '../../core/engine';
import { BACKEND_CHOICES, describeEngine, initEngine } from '../../core/engine';
import { LlmLabError } from '../../core/errors';
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

/** A text file's content; a missing or unreadable file is a user-facing error that names it. */
export async function readTextFile(io: CliIo, file: string, what: string): Promise<string> {
  const abs = path.resolve(io.cwd, file);
  try {
    const stat = await fsp.stat(abs);
    if (stat.isDirectory()) throw new LlmLabError('bad-argument', `${what} ${abs} is a folder; give a text file.`);
    return await fsp.readFile(abs, 'utf8');
  } catch (e) {
    if (e instanceof LlmLabError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new LlmLabError('not-found', `${what} ${abs} does not exist; check the path.`);
    throw new LlmLabError('io', `Could not read ${what} ${abs} (${code ?? String(e)}).`);
  }
}
