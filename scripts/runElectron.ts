// The same integration suite under @vscode/test-electron, for a machine with internet (it downloads a
// desktop VS Code build on first use). Here, with no internet, use `npm run test:integration` instead.
// Usage: npm run build && npm run compile && node out/scripts/runElectron.js
import { runTests } from '@vscode/test-electron';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './codeServer';
import { freshWorkspace } from './runIntegration';

async function main(): Promise<void> {
  const ws = freshWorkspace();
  try {
    await runTests({
      extensionDevelopmentPath: ROOT,
      extensionTestsPath: join(ROOT, 'out', 'test', 'integration', 'index'),
      launchArgs: [ws, '--disable-extensions', '--disable-workspace-trust'],
    });
  } finally {
    rmSync(ws, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
