// Ctrl-C (SIGINT) sent to the built `llm-lab` while generate, eval and tokenize are busy: each must stop
// within a few seconds with exit code 130, long before its work would have ended.
import * as assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { saveModel } from '../../../src/core/checkpoint';
import { initEngine } from '../../../src/core/engine';
import { makeConfig } from '../../../src/core/model/config';
import { GptModel } from '../../../src/core/model/gpt';
import { buildCli, interruptCli as interrupt, ROOT as root } from './builtCli';

/** How long a stopped command may take to exit after the signal. */
const GRACE_MS = 10_000;

describe('Ctrl-C stops generate, eval and tokenize in the built llm-lab binary', function () {
  this.timeout(180_000);
  let tmp: string;
  let modelDir: string;
  const verdict = path.join(root, 'samples', 'the-verdict.txt');

  before(async function () {
    buildCli();
    await initEngine('cpu');
    tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'llm-lab-interrupt-'));
    modelDir = path.join(tmp, 'model');
    const model = GptModel.create(makeConfig('tiny', { contextLength: 32 }), 5);
    await saveModel(modelDir, model);
    model.dispose();
  });
  after(async () => {
    await fsp.rm(tmp, { recursive: true, force: true });
  });

  it('generate stops within a token of Ctrl-C', async () => {
    const args = ['generate', '--model', modelDir, '--prompt', 'Hello', '--max-new-tokens', '1000000', '--no-stop', '--no-echo', '--backend', 'cpu'];
    const r = await interrupt(args, (out) => out.length > 0);
    assert.equal(r.code, 130, r.stderr);
    assert.ok(r.afterSignal < GRACE_MS);
    assert.match(r.stderr, /stopped after \d+ tokens/);
  });

  it('eval stops within a window of Ctrl-C', async () => {
    const data = path.join(tmp, 'eval.txt');
    const one = await fsp.readFile(verdict, 'utf8');
    await fsp.writeFile(data, one.repeat(Math.floor(1.9e6 / one.length))); // under the 2 MB default cap
    const args = ['eval', '--model', modelDir, '--data', data, '--backend', 'cpu', '--batch', '1'];
    const r = await interrupt(args, (_out, err) => /tokens/.test(err));
    assert.equal(r.code, 130, r.stderr);
    assert.ok(r.afterSignal < GRACE_MS);
    assert.doesNotMatch(r.stdout, /perplexity/);
  });

  it('tokenize of a large file stops on Ctrl-C', async () => {
    const big = path.join(tmp, 'big.txt');
    const one = await fsp.readFile(verdict, 'utf8');
    await fsp.writeFile(big, one.repeat(Math.ceil(20e6 / one.length)));
    // Signalled once the output flows: a signal sent while Node is still starting ends the process by default.
    const r = await interrupt(['tokenize', '--file', big], (out) => out.length > 0);
    assert.equal(r.code, 130, `exit ${r.code}: ${r.stderr.slice(0, 500)}`);
    assert.ok(r.afterSignal < GRACE_MS);
    assert.match(r.stderr, /Cancelled/);
  });
});
