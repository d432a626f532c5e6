// The built `llm-lab` binary (dist/cli.js) for tests that run it as a user does: a signal sent to it once its
// output says it is busy, with a kill if it outlives the grace, and its JSON events.
import type { ChildProcess } from 'node:child_process';
import { execFileSync, spawn } from 'node:child_process';
import * as path from 'node:path';

export const ROOT = path.resolve(__dirname, '../../../..');
export const CLI_JS = path.join(ROOT, 'dist', 'cli.js');

/** Builds dist/ (the CLI and its gradient bundle) as `npm run build` does. */
export function buildCli(): void {
  execFileSync(process.execPath, ['esbuild.mjs'], { cwd: ROOT, stdio: 'pipe' });
}

export interface Interrupted {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Milliseconds from the signal to the exit (NaN when it was never sent). */
  afterSignal: number;
}

/**
 * Runs the built CLI with `args` from the repository root, sends `signal` once `ready` says so, and kills it
 * (the caller's assertions then fail) if it has not exited `graceMs` after the signal.
 */
export function interruptCli(
  args: string[],
  ready: (stdout: string, stderr: string, ms: number) => boolean,
  signal: NodeJS.Signals = 'SIGINT',
  graceMs = 10_000,
): Promise<Interrupted> {
  const child: ChildProcess = spawn(process.execPath, [CLI_JS, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const started = Date.now();
  let stdout = '';
  let stderr = '';
  let sentAt: number | undefined;
  let killer: NodeJS.Timeout | undefined;
  const check = () => {
    if (sentAt !== undefined || !ready(stdout, stderr, Date.now() - started)) return;
    sentAt = Date.now();
    child.kill(signal);
    killer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  };
  const poll = setInterval(check, 100);
  child.stdout!.on('data', (b: Buffer) => {
    if (stdout.length < 1_000_000) stdout += b;
    check();
  });
  child.stderr!.on('data', (b: Buffer) => {
    stderr += b;
    check();
  });
  return new Promise((resolve) => {
    child.on('close', (code) => {
      clearInterval(poll);
      clearTimeout(killer);
      resolve({ code, stdout, stderr, afterSignal: sentAt === undefined ? NaN : Date.now() - sentAt });
    });
  });
}

/** Whether a `--json` training has reported its first step (the moment a Ctrl-C test stops it). */
export const steppedOnce = (stdout: string): boolean => stdout.includes('"type":"step"');

/** The JSON events of a `--json` command's output, one a line. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the tests read the events field by field, as JSON.parse gives them
export function jsonEvents(stdout: string): any[] {
  return stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
}
