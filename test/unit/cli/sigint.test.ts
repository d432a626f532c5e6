import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildCli, CLI_JS, interruptCli, jsonEvents, ROOT, steppedOnce } from './builtCli';

describe('Ctrl-C and SIGTERM in the built llm-lab binary', () => {
  let gradientsMissing: string | undefined;
  before(function () {
    this.timeout(180_000);
    buildCli();
    const info = spawnSync(process.execPath, [CLI_JS, 'info', '--json'], { cwd: ROOT, encoding: 'utf8' });
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
        const r = await interruptCli(args, steppedOnce, signal, 120_000);
        assert.equal(r.code, 130, r.stderr);
        const events = jsonEvents(r.stdout);
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
