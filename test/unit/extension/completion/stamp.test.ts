// The provider keys its cache by the checkpoint that answers (checkpointStamp): when a run saves a newer
// checkpoint, or a model is saved again in place, a suggestion cached from the old weights is no longer served.
import * as assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CompletionCache } from '../../../../src/extension/completion/cache';
import { checkpointStamp } from '../../../../src/extension/completion/modelChoice';

async function writeCheckpoint(dir: string, weights: string): Promise<void> {
  await fsp.mkdir(dir, { recursive: true });
  await fsp.writeFile(path.join(dir, 'config.json'), '{}');
  await fsp.writeFile(path.join(dir, 'model.safetensors'), weights);
}

describe('inline completion cache and new checkpoints', () => {
  let tmp: string;
  before(async () => {
    tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'llm-lab-stamp-'));
  });
  after(async () => {
    await fsp.rm(tmp, { recursive: true, force: true });
  });

  it('a run folder gets a new stamp when it saves a newer checkpoint, and the cached suggestion is not served', async () => {
    const run = path.join(tmp, 'run');
    await writeCheckpoint(path.join(run, 'checkpoints', 'step-000080'), 'old weights');
    const before = await checkpointStamp(run);
    assert.match(before, /step-000080@/);
    const cache = new CompletionCache();
    const at = (stamp: string) => ({ prefix: 'the quick brown', suffix: '', settings: JSON.stringify([stamp, 'line']) });
    cache.set(at(before), ' fox');
    assert.equal(cache.get(at(await checkpointStamp(run))), ' fox', 'the same checkpoint serves from the cache');

    await writeCheckpoint(path.join(run, 'checkpoints', 'step-000160'), 'new weights');
    const after = await checkpointStamp(run);
    assert.match(after, /step-000160@/);
    assert.equal(cache.get(at(after)), undefined, 'a suggestion of the old weights was served for the new checkpoint');
  });

  it('a model folder saved again in place gets a new stamp', async () => {
    const model = path.join(tmp, 'model');
    await writeCheckpoint(model, 'v1');
    const first = await checkpointStamp(model);
    await writeCheckpoint(model, 'v2, a longer file');
    assert.notEqual(await checkpointStamp(model), first);
  });

  it('a folder with no model stamps as itself', async () => {
    assert.equal(await checkpointStamp(path.join(tmp, 'nothing')), path.join(tmp, 'nothing'));
  });
});
