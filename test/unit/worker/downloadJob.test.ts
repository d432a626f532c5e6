// The worker's download job: it downloads into <cacheDir>/<name>, pushes progress that the protocol accepts and
// that ends at the file's size, and its result passes the protocol's own check.
import * as assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { NotificationName, NotificationOf } from '../../../src/protocol/worker';
import { workerNotifications, workerRequests } from '../../../src/protocol/worker';
import { downloadJob } from '../../../src/worker/downloadJob';
import type { JobContext } from '../../../src/worker/server';
import { startFakeHub } from '../core/hub/fakeHub';

describe('worker download job', () => {
  it('downloads into the cache folder it is given and reports progress the host can check', async () => {
    const hub = await startFakeHub();
    const tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'llm-lab-dl-job-'));
    try {
      const weights = randomBytes(100_000);
      const cfg = Buffer.from(JSON.stringify({ model_type: 'gpt2', vocab_size: 50257, n_positions: 8, n_embd: 4, n_head: 1, n_layer: 1 }));
      hub.files.set('openai-community/gpt2/config.json', { bytes: cfg, lfs: false });
      hub.files.set('openai-community/gpt2/model.safetensors', { bytes: weights, lfs: true });
      const seen: NotificationOf<'download/didProgress'>[] = [];
      const ctx: JobContext = {
        signal: new AbortController().signal,
        notify: <N extends NotificationName>(name: N, params: NotificationOf<N>) => {
          assert.equal(name, 'download/didProgress');
          seen.push(workerNotifications['download/didProgress'](params) as NotificationOf<'download/didProgress'>);
        },
      };
      const r = await downloadJob({ name: 'gpt2', baseUrl: hub.baseUrl, cacheDir: path.join(tmp, 'models') }, ctx);
      workerRequests['model/download'].result(r);
      assert.equal(r.dir, path.join(tmp, 'models', 'gpt2'));
      assert.deepEqual(await fsp.readFile(path.join(r.dir, 'model.safetensors')), weights);
      const last = seen.filter((p) => p.file === 'model.safetensors').at(-1);
      assert.deepEqual([last?.bytes, last?.total], [weights.length, weights.length]);
    } finally {
      await hub.close();
      await fsp.rm(tmp, { recursive: true, force: true });
    }
  });
});
