// Runs the integration suite (test/integration, real `vscode` API) inside a real VS Code extension host:
// code-server serves the workbench, headless Chromium opens it with the extension under development and
// the suite's path in the URL payload, and the suite's exit code comes back through
// `codeAutomationExit`. The fixture workspace is copied to a temp folder so runs never touch the repo.
// Usage: node out/scripts/runIntegration.js [--grep pattern]
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openWorkbench } from './browser';
import { ROOT, freshWorkspace, startCodeServer } from './codeServer';

export function workbenchUrl(base: string, port: number, workspace: string, payload: [string, string][]): string {
  const remote = (p: string) => `vscode-remote://127.0.0.1:${port}${p}`;
  const full = payload.map(([k, v]) => [k, v.startsWith('/') ? remote(v) : v]);
  return `${base}/?folder=${encodeURIComponent(workspace)}&payload=${encodeURIComponent(JSON.stringify(full))}`;
}

// Kept here too for the scripts that import it from this file.
export { freshWorkspace };

async function main(): Promise<number> {
  const grepAt = process.argv.indexOf('--grep');
  const grep = grepAt > 0 ? process.argv[grepAt + 1] : process.env.LLM_LAB_TEST_GREP;
  const timeoutMs = Number(process.env.LLM_LAB_TEST_TIMEOUT_MS ?? 15 * 60_000);
  const ws = freshWorkspace();
  const logFile = join(ws, '..', `${ws.split('/').pop()}-report.txt`);
  writeFileSync(logFile, '');
  const server = await startCodeServer({ workspace: ws, env: { LLM_LAB_TEST_LOG: logFile, ...(grep ? { LLM_LAB_TEST_GREP: grep } : {}) } });
  // Echo the suite's report as it grows.
  let printed = 0;
  const tail = () => {
    const text = readFileSync(logFile, 'utf8');
    if (text.length > printed) process.stdout.write(text.slice(printed));
    printed = text.length;
  };
  const tailer = setInterval(tail, 500);
  const started = Date.now();
  console.log(`code-server on ${server.url}, workspace ${ws}`);
  const payload: [string, string][] = [
    ['extensionDevelopmentPath', ROOT],
    ['extensionTestsPath', join(ROOT, 'out', 'test', 'integration', 'index')],
  ];
  const url = workbenchUrl(server.url, server.port, ws, payload);
  let browser;
  try {
    let resolveExit: (code: number) => void = () => undefined;
    const exited = new Promise<number>((r) => (resolveExit = r));
    browser = await openWorkbench('about:blank');
    const { page } = browser;
    page.on('console', (m) => {
      const t = m.text();
      if (process.env.LLM_LAB_DEBUG) console.log(`[browser] ${t}`);
    });
    await page.exposeFunction('codeAutomationExit', (code: number) => resolveExit(code));
    await page.goto(url);
    const timeout = new Promise<number>((r) => setTimeout(() => r(124), timeoutMs).unref());
    const code = await Promise.race([exited, timeout]);
    tail();
    if (code === 124) console.error(`The suite did not finish within ${timeoutMs / 1000} s.`);
    console.log(`Integration suite exited with ${code} after ${((Date.now() - started) / 1000).toFixed(0)} s.`);
    if (code !== 0) console.log('--- code-server output (tail) ---\n' + server.output().slice(-4000));
    return code;
  } finally {
    clearInterval(tailer);
    tail();
    rmSync(logFile, { force: true });
    await browser?.close();
    await server.stop();
    rmSync(ws, { recursive: true, force: true });
  }
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
}
