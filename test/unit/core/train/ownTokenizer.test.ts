import * as assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCli } from '../../../../src/cli/app';
import { captureIo } from '../../../../src/cli/io';
import { loadModel, modelTokenizer } from '../../../../src/core/checkpoint';
import { initEngine } from '../../../../src/core/engine';
import { generateText } from '../../../../src/core/generate';
import { loadTokenizer, saveTokenizer } from '../../../../src/core/tokenizer/files';
import { trainBpe } from '../../../../src/core/tokenizer/train';
import { pretrain, RUN_TOKENIZER_DIR } from '../../../../src/core/train/pretrain';
import { registerGradients } from '../../../../src/core/engine/gradients';

const SAMPLE = path.join(__dirname, '../../../../../samples/the-verdict.txt');
const shape = { contextLength: 32, embDim: 32, nHeads: 2, nLayers: 1, dropRate: 0 };

describe('pretraining with a trained tokenizer', function () {
  this.timeout(300_000);
  let tmp: string;
  let text: string;
  let tokDir: string;
  let otherDir: string;

  before(async () => {
    await initEngine('cpu');
    assert.equal(registerGradients(), undefined);
    tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'llm-lab-owntok-'));
    text = await fsp.readFile(SAMPLE, 'utf8');
    tokDir = path.join(tmp, 'verdict-tok');
    await saveTokenizer(tokDir, (await trainBpe([text], { vocabSize: 512, name: 'verdict' })).model);
    otherDir = path.join(tmp, 'other-tok');
    await saveTokenizer(otherDir, (await trainBpe([text], { vocabSize: 300, name: 'other' })).model);
  });
  after(async () => {
    await fsp.rm(tmp, { recursive: true, force: true });
  });

  it('sizes the model to the tokenizer, saves the tokenizer with every checkpoint, and generates with it', async () => {
    const out = path.join(tmp, 'run');
    const r = await pretrain({
      outDir: out, text, tokenizerDir: tokDir, preset: 'tiny', model: shape, steps: 60, batchSize: 8, lr: 1e-2,
      evalEvery: 0, sampleEvery: 0, checkpointEvery: 30, seed: 3,
    });
    assert.equal(r.status, 'completed');
    const tokenizerModel = await fsp.readFile(path.join(tokDir, 'tokenizer.model'), 'utf8');
    // The checkpoint is a complete model folder: weights, config naming the trained tokenizer, tokenizer files.
    const config = JSON.parse(await fsp.readFile(path.join(r.checkpointDir!, 'config.json'), 'utf8'));
    assert.equal(config.vocab_size, 512);
    assert.equal(config.llm_lab.tokenizer, 'trained');
    assert.equal(await fsp.readFile(path.join(r.checkpointDir!, 'tokenizer.model'), 'utf8'), tokenizerModel);
    await fsp.access(path.join(r.checkpointDir!, 'tokenizer.json'));
    assert.equal(await fsp.readFile(path.join(out, RUN_TOKENIZER_DIR, 'tokenizer.model'), 'utf8'), tokenizerModel);

    const loaded = await loadModel(out);
    try {
      const tok = modelTokenizer(loaded);
      const trained = await loadTokenizer(tokDir);
      assert.equal(tok.vocabSize, 512);
      assert.deepEqual(tok.encode(text.slice(0, 500)), trained.encode(text.slice(0, 500)));
      const g = await generateText(loaded.model, tok, 'I had always thought', { maxNewTokens: 12, temperature: 0 });
      assert.ok(g.text.length > 0, 'it generated a continuation');
      assert.equal(tok.decode(tok.encode(g.text)), g.text);
    } finally {
      loaded.model.dispose();
    }

    // Resuming takes the run folder's copy of the tokenizer; another tokenizer is refused.
    const more = await pretrain({ outDir: out, text, steps: 70, resume: true, evalEvery: 0, sampleEvery: 0, checkpointEvery: 0 });
    assert.equal(more.step, 70);
    await assert.rejects(
      pretrain({ outDir: out, text, steps: 80, resume: true, tokenizerDir: otherDir }),
      /is not the tokenizer run .* was started with/,
    );
  });

  it('from the CLI: pretrain --tokenizer, then generate and eval use the model’s own tokenizer', async () => {
    const cli = async (args: string[]) => {
      const io = captureIo({ cwd: tmp });
      const code = await runCli(args, io);
      return { code, out: io.out(), err: io.err() };
    };
    await fsp.writeFile(path.join(tmp, 'verdict.txt'), text);
    const args = ['pretrain', '--data', 'verdict.txt', '--tokenizer', 'verdict-tok', '--out', 'cli-run', '--context', '32', '--width', '32'];
    const p = await cli([...args, '--layers', '1', '--heads', '2', '--steps', '20', '--eval-every', '0', '--sample-every', '0', '--backend', 'cpu', '--json']);
    assert.equal(p.code, 0, p.err);
    const g = await cli(['generate', '--model', 'cli-run', '--prompt', 'Jack Gisburn', '--max-new-tokens', '8', '--temperature', '0', '--json', '--backend', 'cpu']);
    assert.equal(g.code, 0, g.err);
    const gj = JSON.parse(g.out);
    const trained = await loadTokenizer(tokDir);
    assert.equal(gj.tokens.length, 8);
    assert.ok(gj.tokens.every((id: number) => id < trained.vocabSize));
    assert.equal(gj.text, trained.decode(gj.tokens), 'the continuation is the trained tokenizer’s decoding of its ids');
    const e = await cli(['eval', '--model', 'cli-run', '--data', 'verdict.txt', '--json', '--backend', 'cpu']);
    assert.equal(e.code, 0, e.err);
    assert.equal(JSON.parse(e.out).tokens, trained.encode(text, { allowSpecial: true }).length, 'eval counted the trained tokenizer’s tokens');
    const bad = await cli(['pretrain', '--data', 'verdict.txt', '--tokenizer', 'nowhere', '--out', 'cli-run2', '--backend', 'cpu']);
    assert.equal(bad.code, 1);
    assert.match(bad.err, /holds no tokenizer/);
  });
});
