import * as assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCli } from '../../../src/cli/app';
import { captureIo } from '../../../src/cli/io';
import { saveModel } from '../../../src/core/checkpoint';
import { initEngine } from '../../../src/core/engine';
import { makeConfig } from '../../../src/core/model/config';
import { GptModel } from '../../../src/core/model/gpt';
import type { FakeHub } from '../core/hub/fakeHub';
import { startFakeHub } from '../core/hub/fakeHub';

describe('llm-lab download', () => {
  let hub: FakeHub;
  let tmp: string;

  before(async () => {
    await initEngine('cpu');
    hub = await startFakeHub();
    tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'llm-lab-dl-cli-'));
    // The hub serves a small GPT-2 model folder, as openai-community/gpt2 is laid out.
    const made = path.join(tmp, 'made');
    const model = GptModel.create(makeConfig('tiny', { contextLength: 16, embDim: 16, nHeads: 2, nLayers: 1 }), 5);
    await saveModel(made, model);
    model.dispose();
    for (const [file, lfs] of [['config.json', false], ['model.safetensors', true]] as const) {
      hub.files.set(`openai-community/gpt2/${file}`, { bytes: await fsp.readFile(path.join(made, file)), lfs });
    }
  });
  after(async () => {
    await hub.close();
    await fsp.rm(tmp, { recursive: true, force: true });
  });

  it('downloads into --to, prints the folder, and the folder works as --model', async () => {
    const io = captureIo({ cwd: tmp });
    const code = await runCli(['download', 'gpt2', '--base-url', hub.baseUrl, '--to', 'gpt2'], io);
    assert.equal(code, 0, io.err());
    assert.equal(io.out().trim(), path.join(tmp, 'gpt2'));
    assert.match(io.err(), /model\.safetensors: .*SHA-256 verified/);
    assert.match(io.err(), /config\.json: .*git blob id verified/);
    const gen = captureIo({ cwd: tmp });
    const g = await runCli(['generate', '--model', 'gpt2', '--prompt', 'Hello', '--temperature', '0', '--max-new-tokens', '3', '--json'], gen);
    assert.equal(g, 0, gen.err());
    assert.equal(JSON.parse(gen.out()).tokens.length, 3);
  });

  it('--json reports each file and how it was checked; a second run finds them already there', async () => {
    const io = captureIo({ cwd: tmp });
    assert.equal(await runCli(['download', 'gpt2', '--base-url', hub.baseUrl, '--to', 'again', '--json'], io), 0, io.err());
    const first = JSON.parse(io.out());
    assert.deepEqual(first.files.map((f: { name: string; verified: string }) => [f.name, f.verified]), [['config.json', 'git-oid'], ['model.safetensors', 'sha256']]);
    const io2 = captureIo({ cwd: tmp });
    assert.equal(await runCli(['download', 'gpt2', '--base-url', hub.baseUrl, '--to', 'again', '--json'], io2), 0, io2.err());
    assert.deepEqual(JSON.parse(io2.out()).files.map((f: { alreadyThere: boolean }) => f.alreadyThere), [true, true]);
  });

  it('a wrong name or a missing model is one line and exit 1', async () => {
    for (const [args, re] of [
      [['download'], /takes one model name: gpt2, gpt2-medium, gpt2-large, gpt2-xl/],
      [['download', 'gpt5'], /no GPT-2 model 'gpt5'/],
      [['download', 'gpt2-xl', '--base-url', hub.baseUrl, '--to', 'xl'], /HTTP 404/],
    ] as const) {
      const io = captureIo({ cwd: tmp });
      assert.equal(await runCli([...args], io), 1, io.err());
      assert.equal(io.err().trimEnd().split('\n').filter((l) => l.startsWith('llm-lab:')).length, 1);
      assert.match(io.err(), re);
    }
  });
});
