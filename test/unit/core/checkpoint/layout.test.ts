// The one rule for what a folder is (describeFolder), on folders made by hand, and findCheckpoint refusing a
// folder that is a model and a run at once.
import * as assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describeFolder, findCheckpoint } from '../../../../src/core/checkpoint/layout';
import { LlmLabError } from '../../../../src/core/errors';

describe('what a folder is', () => {
  let tmp: string;
  before(async () => {
    tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'llm-lab-layout-'));
  });
  after(async () => {
    await fsp.rm(tmp, { recursive: true, force: true });
  });

  /** A folder with these entries (a name ending in / is a folder). */
  async function folder(name: string, entries: string[]): Promise<string> {
    const dir = path.join(tmp, name);
    await fsp.mkdir(dir, { recursive: true });
    for (const e of entries) {
      if (e.endsWith('/')) await fsp.mkdir(path.join(dir, e), { recursive: true });
      else await fsp.writeFile(path.join(dir, e), '{}');
    }
    return dir;
  }

  it('tells each kind apart', async () => {
    const cases: [string, string[], string][] = [
      ['empty', [], 'empty'],
      ['locked', ['run.lock'], 'empty'],
      ['pending', ['job.json', 'run.lock'], 'pending'],
      ['run', ['run.json', 'metrics.jsonl'], 'run'],
      ['run2', ['checkpoints/step-000004/', 'notes.txt'], 'run'],
      ['model', ['config.json', 'model.safetensors'], 'model'],
      ['half-model', ['model.safetensors'], 'model'],
      ['adapter', ['adapter.json', 'adapter.safetensors'], 'adapter'],
      ['both', ['config.json', 'model.safetensors', 'checkpoints/step-000002/'], 'ambiguous'],
      ['both2', ['adapter.json', 'run.json'], 'ambiguous'],
      ['other', ['notes.txt', 'checkpoints/'], 'other'],
      ['metrics-only', ['metrics.jsonl'], 'other'],
    ];
    for (const [name, entries, kind] of cases) {
      assert.equal((await describeFolder(await folder(name, entries))).kind, kind, name);
    }
    assert.equal((await describeFolder(path.join(tmp, 'nothing'))).kind, 'missing');
    await fsp.writeFile(path.join(tmp, 'a-file'), 'x');
    assert.equal((await describeFolder(path.join(tmp, 'a-file'))).kind, 'file');
  });

  it('findCheckpoint takes a model folder, the latest step of a run, and refuses a folder that is both', async () => {
    const model = await folder('m', ['config.json', 'model.safetensors']);
    assert.equal(await findCheckpoint(model), model);
    const run = await folder('r', ['run.json', 'checkpoints/step-000002/', 'checkpoints/step-000010/']);
    await fsp.writeFile(path.join(run, 'checkpoints', 'step-000010', 'config.json'), '{}');
    assert.equal(await findCheckpoint(run), path.join(run, 'checkpoints', 'step-000010'));
    const both = await folder('mr', ['config.json', 'model.safetensors', 'run.json', 'checkpoints/step-000003/']);
    await assert.rejects(findCheckpoint(both), (e: unknown) => {
      assert.ok(e instanceof LlmLabError && e.code === 'bad-checkpoint');
      assert.match(e.message, /holds both a model \(config\.json, model\.safetensors\) and a training run \(run\.json and checkpoints\/\)/);
      assert.ok(e.message.includes(path.join(both, 'checkpoints', 'step-000003')), e.message);
      return true;
    });
  });
});
