// Entry of the worker process (bundled to dist/worker.js): the extension forks it with VS Code's runtime
// and talks to it over Node IPC. It serves the requests of src/protocol/worker.ts until the host
// disconnects; any crash here ends only this process, which the host reports and can restart.
import { WorkerServer } from './server';
import { createHandlers } from './handlers';

function main(): void {
  const send = process.send?.bind(process);
  if (!send) {
    console.error('The LLM Lab worker must be started by the extension (it needs an IPC channel).');
    process.exit(2);
  }
  const server = new WorkerServer(createHandlers(), (msg) => {
    if (process.connected) send(msg);
  });
  process.on('message', (raw) => void server.receive(raw));
  const stop = () => {
    server.cancelAll();
    // Give handlers a moment to write what they were writing (a checkpoint is atomic), then leave.
    setTimeout(() => process.exit(0), 1500).unref();
  };
  process.on('disconnect', stop);
  process.on('SIGTERM', stop);
  process.on('unhandledRejection', (e) => console.error('Unhandled rejection in the worker:', e));
  send({ kind: 'ready', pid: process.pid });
}

main();
