import * as assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const root = path.resolve(__dirname, '../../../..');
const cliJs = path.join(root, 'dist', 'cli.js');

describe('Ctrl-C and SIGTERM in the built llm-lab binary', () => {
  let gradientsMissing: string | undefined;
  before(function () {
    this.timeout(180_000);
    execFileSync(process.execPath, ['esbuild.mjs'], { cwd: root, stdio: 'pipe' });
    const info = spawnSync(process.execPath, [cliJs, 'info', '--json'], { cwd: root, encoding: 'utf8' });
    gradientsMissing = JSON.parse(info.stdout).engine.gradientsMissing;
  });

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`stops pretraining cleanly on ${signal}, with a checkpoint of the last step, and exits 130`, async function () {
      this.timeout(240_000);
      assert.equal(gradientsMissing, undefined, 'npm run build made no usable gradient bundle');
      const tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'llm-lab-sigint-'));
      try {
        const out = path.join(tmp, 'run');
        const args = ['pretrain', '--data', 'samples/the-verdict.txt', '--out', out, '--steps', '500', '--context', '8', '--width', '16', '--heads', '1', '--layers', '1', '--batch', '1', '--eval-every', '0', '--sample-every', '0', '--json'];
        const child = spawn(process.execPath, [cliJs, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        let sent = false;
        child.stderr.on('data', (b: Buffer) => void (stderr += b));
        child.stdout.on('data', (b: Buffer) => {
          stdout += b;
          if (!sent && stdout.includes('"type":"step"')) {
            sent = true;
            child.kill(signal);
          }
        });
        const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
        assert.equal(code, 130, stderr);
        const events = stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
        const result = events.find((e) => e.type === 'result');
        assert.equal(result.status, 'cancelled');
        assert.ok(result.step >= 1 && result.step < 500);
        const checkpoints = await fsp.readdir(path.join(out, 'checkpoints'));
        assert.ok(checkpoints.includes(`step-${String(result.step).padStart(6, '0')}`), checkpoints.join(','));
      } finally {
        await fsp.rm(tmp, { recursive: true, force: true });
      }
    });
  }
});
