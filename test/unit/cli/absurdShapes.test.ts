// Model shapes far beyond this machine, from flags or from a checkpoint's config.json, are refused before
// anything is allocated: one line saying how much memory the model needs and what to change, exit 1, and
// nothing written. Run on the built binary, as a user would, with a time limit (a shape that is not refused
// grows for minutes and past 8 GB).
import * as assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { saveModel } from '../../../src/core/checkpoint';
import { initEngine } from '../../../src/core/engine';
import { LlmLabError } from '../../../src/core/errors';
import { estimateMemory, makeConfig, PRESETS } from '../../../src/core/model/config';
import { assertLoadingFits, assertTrainingFits } from '../../../src/core/model/memory';
import { GptModel } from '../../../src/core/model/gpt';

const root = path.resolve(__dirname, '../../../..');
const cliJs = path.join(root, 'dist', 'cli.js');

function llmLab(args: string[], cwd: string) {
  const r = spawnSync(process.execPath, [cliJs, ...args], { cwd, encoding: 'utf8', timeout: 60_000, killSignal: 'SIGKILL' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('absurd model shapes', function () {
  this.timeout(180_000);
  let tmp: string;

  before(async () => {
    execFileSync(process.execPath, ['esbuild.mjs'], { cwd: root, stdio: 'pipe' });
    await initEngine('cpu');
    tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'llm-lab-shapes-'));
    await fsp.writeFile(path.join(tmp, 'data.txt'), (await fsp.readFile(path.join(root, 'samples', 'the-verdict.txt'), 'utf8')).slice(0, 4000));
  });
  after(async () => {
    await fsp.rm(tmp, { recursive: true, force: true });
  });

  it('the rule: what a shape needs against 80% of the machine, weights, gradients and AdamW counted', () => {
    const GB = 1e9;
    // GPT-2: 124,439,808 float32 weights, trained with a gradient and two AdamW moments each: 16 bytes a weight.
    assert.ok(estimateMemory(PRESETS.gpt2, 1).trainingBytes >= 124_439_808 * 16);
    assert.doesNotThrow(() => assertTrainingFits(PRESETS.gpt2, 1, 'x', 16 * GB));
    assert.throws(() => assertTrainingFits(PRESETS.gpt2, 1, 'x', 2 * GB)); // 1.99 GB of weight state alone > 1.6 GB
    // GPT-2 XL: 1,557,611,200 weights × 16 bytes = 24.9 GB, over 80% of 16 GB.
    assert.throws(
      () => assertTrainingFits(PRESETS['gpt2-xl'], 8, 'of these training settings', 16 * GB),
      (e: unknown) => e instanceof LlmLabError && e.code === 'out-of-memory' && /to train with batch 8; this machine has 16.0 GB/.test(e.message),
    );
    // Loading needs the weights twice and one forward pass: 2 × 6.23 GB of float32 weights, over 80% of 4 GB; fine on 32 GB.
    assert.throws(() => assertLoadingFits(PRESETS['gpt2-xl'], 'The model', 4 * GB), /to load/);
    assert.doesNotThrow(() => assertLoadingFits(PRESETS['gpt2-xl'], 'The model', 32 * GB));
  });

  for (const [flag, value] of [['--layers', '100000'], ['--width', '100000'], ['--context', '10000000']]) {
    it(`pretrain ${flag} ${value} is refused at once, with nothing written`, () => {
      const out = path.join(tmp, `run${flag}`);
      const r = llmLab(['pretrain', '--data', 'data.txt', '--out', out, '--steps', '1', flag, value, '--backend', 'cpu'], tmp);
      assert.equal(r.code, 1, `exit ${r.code}: ${r.stderr}`);
      assert.match(r.stderr, /^data: 1 file.*\nllm-lab: The model of these training settings \(.*\) needs about [\d.]+ [TGMK]?B to train with batch \d+; this machine has [\d.]+ GB \(LLM Lab plans for at most 80%\)\. Choose a smaller preset/);
      assert.equal(r.stderr.trimEnd().split('\n').length, 2);
      return fsp.stat(out).then(
        () => assert.fail(`${out} was created`),
        () => undefined,
      );
    });
  }

  it('a checkpoint whose config.json says "n_layer": 1e8 is refused before its weights are read', async () => {
    const dir = path.join(tmp, 'model');
    const model = GptModel.create(makeConfig('tiny', { contextLength: 8, embDim: 16, nHeads: 2, nLayers: 1 }), 1);
    await saveModel(dir, model);
    model.dispose();
    const file = path.join(dir, 'config.json');
    const config = JSON.parse(await fsp.readFile(file, 'utf8'));
    await fsp.writeFile(file, JSON.stringify({ ...config, n_layer: 1e8 }));
    for (const args of [['eval', '--model', dir, '--data', 'data.txt'], ['generate', '--model', dir, '--prompt', 'Hi']]) {
      const r = llmLab([...args, '--backend', 'cpu'], tmp);
      assert.equal(r.code, 1, `exit ${r.code}: ${r.stderr}`);
      assert.match(r.stderr, /The model in .*model has [\d,]+ parameters and needs about .* to load/);
    }
  });
});
