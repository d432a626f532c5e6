// The threaded wasm backend starts its pthread workers from a script file. A file someone else put in the
// shared temp folder must never be what runs: this plants one at the name a predictable scheme would use
// (the script's hash in os.tmpdir()) and at a catch-all of likely names, then starts the built CLI on wasm.
import * as assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const root = path.resolve(__dirname, '../../../../../..');
const cliJs = path.join(root, 'dist', 'cli.js');
const THREADED = 'tfjs-backend-wasm-threaded-simd';

describe('wasm loader and a planted worker script', () => {
  before(function () {
    this.timeout(180_000);
    execFileSync(process.execPath, ['esbuild.mjs'], { cwd: root, stdio: 'pipe' });
  });

  it('never runs a file planted in the temp folder, and leaves nothing there', async function () {
    this.timeout(120_000);
    const tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'llm-lab-plant-'));
    try {
      const shared = path.join(tmp, 'shared-tmp');
      await fsp.mkdir(shared);
      const marker = path.join(tmp, 'planted-code-ran');
      const evil = `require('fs').writeFileSync(${JSON.stringify(marker)}, 'ran');\n`;
      // The name a writer that reuses a hash-named file would pick (an attacker can compute it the same way).
      const shipped = (await import(path.join(root, 'dist', `${THREADED}.worker.js`))) as { wasmWorkerContents: string };
      const contents = shipped.wasmWorkerContents;
      const hash = crypto.createHash('sha1').update(contents.replace(/\n/g, '\\n')).digest('hex').slice(0, 12);
      const planted = [`llm-lab-${THREADED}-${hash}.worker.js`, `${THREADED}.worker.js`, `llm-lab-${THREADED}.worker.js`];
      for (const name of planted) await fsp.writeFile(path.join(shared, name), evil);

      const r = spawnSync(process.execPath, [cliJs, 'info', '--backend', 'wasm', '--json'], {
        cwd: root,
        encoding: 'utf8',
        env: { ...process.env, TMPDIR: shared, TMP: shared, TEMP: shared, LLM_LAB_THREADS: '2' },
        timeout: 90_000,
      });
      assert.equal(r.status, 0, r.stderr);
      await assert.rejects(fsp.stat(marker), 'the planted script ran');
      const engine = JSON.parse(r.stdout).engine as { backend: string; threads: number };
      assert.equal(engine.backend, 'wasm');
      assert.equal(engine.threads, 2, 'the threaded module (the one that loads a worker script) must have started');
      // Only the planted files remain: the private folder the script was written to is gone.
      assert.deepEqual((await fsp.readdir(shared)).sort(), [...planted].sort());
    } finally {
      await fsp.rm(tmp, { recursive: true, force: true });
    }
  });
});
