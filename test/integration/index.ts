// Entry of the integration suite inside the VS Code extension host (the standard `run()` shape, so
// code-server here and @vscode/test-electron elsewhere run the same files). Runs every
// suite/*.test.js with mocha; LLM_LAB_TEST_GREP narrows it.
import Mocha from 'mocha';
import { appendFileSync, readdirSync } from 'node:fs';
import { format } from 'node:util';
import { join } from 'node:path';

export function run(): Promise<void> {
  // The runner reads the report from this file: the extension host's console is not ours to read everywhere.
  const log = process.env.LLM_LAB_TEST_LOG;
  if (log) {
    const base = Mocha.reporters.Base as unknown as { consoleLog: (...a: unknown[]) => void };
    const original = base.consoleLog;
    base.consoleLog = (...a: unknown[]) => {
      appendFileSync(log, format(...a) + '\n');
      original(...a);
    };
  }
  const mocha = new Mocha({ ui: 'bdd', color: false, timeout: 120_000, reporter: 'spec' });
  if (process.env.LLM_LAB_TEST_GREP) mocha.grep(process.env.LLM_LAB_TEST_GREP);
  const dir = join(__dirname, 'suite');
  for (const f of readdirSync(dir).filter((f) => f.endsWith('.test.js')).sort()) mocha.addFile(join(dir, f));
  return new Promise<void>((resolve, reject) => {
    mocha.run((failures) => (failures > 0 ? reject(new Error(`${failures} integration test(s) failed.`)) : resolve()));
  }).catch((e: unknown) => {
    if (log) appendFileSync(log, `${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    throw e;
  });
}
