// Entry point of the `llm-lab` binary (bundled to dist/cli.js): wires the CLI to the process. The first
// Ctrl-C (or SIGTERM, as a service manager or `kill` sends) asks the running command to stop cleanly (training
// saves a checkpoint); a second one exits at once.
import { once } from 'node:events';
import { runCli } from './app';
import type { CliIo } from './io';

function processIo(signal: AbortSignal): CliIo {
  return {
    stdout: {
      write: (s) => void process.stdout.write(s),
      drained: async () => {
        if (process.stdout.writableNeedDrain) await once(process.stdout, 'drain');
      },
    },
    stderr: { write: (s) => void process.stderr.write(s) },
    isTTY: process.stderr.isTTY === true,
    columns: process.stderr.columns || 80,
    signal,
    cwd: process.cwd(),
  };
}

function main(): void {
  const controller = new AbortController();
  let interrupts = 0;
  const stop = () => {
    interrupts++;
    if (interrupts === 1) {
      process.stderr.write('\nStopping cleanly after the current step (Ctrl-C again to force)...\n');
      controller.abort();
    } else {
      process.stderr.write('Forced stop.\n');
      process.exit(130);
    }
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  // A closed pipe (`llm-lab generate ... | head`) ends output quietly instead of throwing.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
  });
  runCli(process.argv.slice(2), processIo(controller.signal)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`llm-lab: internal error (${String(e)}).\n`);
      process.exitCode = 2;
    },
  );
}

main();
