// Fill-in-the-middle pretraining end to end: the sentinels grow the vocabulary and are recorded in config.json
// and run.json, the model's tokenizer knows them, a resume checks the FIM settings, and a tiny model trained
// with --fim-rate 1 fills in the middle of a text from its prefix and suffix.
import * as assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCli } from '../../../../src/cli/app';
import { captureIo } from '../../../../src/cli/io';
import { loadModel, modelTokenizer } from '../../../../src/core/checkpoint';
import { completeText } from '../../../../src/core/complete';
import { sentinelsOf } from '../../../../src/core/data/fim';
import { initEngine } from '../../../../src/core/engine';
import { registerGradients } from '../../../../src/core/engine/gradients';
import { backendMissing } from '../backendRequired';
import { getTokenizer } from '../../../../src/core/tokenizer';
import { saveTokenizer } from '../../../../src/core/tokenizer/files';
import { trainBpe } from '../../../../src/core/tokenizer/train';
import { pretrain } from '../../../../src/core/train/pretrain';

/** Twelve distinct characters: with a byte-level tokenizer each is one token, so every middle is determined. */
const DOC = 'abcdefghijkl';
const EOT = '<|endoftext|>';
const quiet = { evalEvery: 0, sampleEvery: 0, valFraction: 0 };

describe('fill-in-the-middle pretraining', function () {
  this.timeout(600_000);
  let tmp: string;

  before(async () => {
    await initEngine('cpu');
    assert.equal(registerGradients(), undefined);
    tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'llm-lab-fim-'));
  });
  after(async () => {
    await fsp.rm(tmp, { recursive: true, force: true });
  });

  it("grows GPT-2's vocabulary by the three sentinels and records them in config.json and run.json", async () => {
    const out = path.join(tmp, 'gpt2-vocab');
    const text = Array.from({ length: 40 }, (_, i) => `function f${i}(x) { return x + ${i}; }\n`).join(EOT);
    const r = await pretrain({ outDir: out, text, preset: 'tiny', model: { contextLength: 16, embDim: 16, nLayers: 1 }, steps: 2, batchSize: 2, fimRate: 0.5, fimSpmRate: 0.5, ...quiet });
    assert.equal(r.status, 'completed');
    const config = JSON.parse(await fsp.readFile(path.join(r.checkpointDir!, 'config.json'), 'utf8'));
    assert.equal(config.vocab_size, 50260);
    assert.deepEqual(config.llm_lab.fim, { prefix: 50257, middle: 50258, suffix: 50259 });
    assert.equal(config.llm_lab.tokenizer, 'gpt2');
    const run = JSON.parse(await fsp.readFile(path.join(out, 'run.json'), 'utf8'));
    assert.equal(run.options.fimRate, 0.5);
    assert.equal(run.options.fimSpmRate, 0.5);
    assert.equal(run.options.model.vocabSize, 50260);

    // The model's tokenizer: GPT-2's ids for text, the sentinels as special tokens past them.
    const loaded = await loadModel(out);
    try {
      const tok = modelTokenizer(loaded);
      assert.equal(tok.vocabSize, 50260);
      assert.deepEqual(tok.encode('<|fim_prefix|>a<|fim_suffix|>b<|fim_middle|>', { allowSpecial: true }), [50257, 64, 50259, 65, 50258]);
      const gpt2 = getTokenizer('gpt2');
      assert.deepEqual(tok.encode('<|fim_prefix|>a'), gpt2.encode('<|fim_prefix|>a'), 'without allowSpecial a sentinel is plain text');
      assert.deepEqual(tok.encode(text.slice(0, 300), { allowSpecial: true }), gpt2.encode(text.slice(0, 300), { allowSpecial: true }));
      assert.equal(tok.decode([50257, 64, 50259, 65, 50258]), '<|fim_prefix|>a<|fim_suffix|>b<|fim_middle|>');
    } finally {
      loaded.model.dispose();
    }

    // Resume: the run's FIM settings stand when not given, and a different rate is refused.
    const more = await pretrain({ outDir: out, text, steps: 3, resume: true, ...quiet });
    assert.equal(more.step, 3);
    await assert.rejects(pretrain({ outDir: out, text, steps: 4, resume: true, fimRate: 0.9, ...quiet }), /fimRate \(run: 0\.5, now: 0\.9\)/);
  });

  it('from the CLI: --fim-rate is checked and named in errors', async () => {
    const data = path.join(tmp, 'data.txt');
    await fsp.writeFile(data, 'hello world '.repeat(200));
    const cli = async (args: string[]) => {
      const io = captureIo({ cwd: tmp });
      const code = await runCli(args, io);
      return { code, out: io.out(), err: io.err() };
    };
    const bad = await cli(['pretrain', '--data', data, '--out', path.join(tmp, 'cli-bad'), '--fim-rate', '1.5', '--backend', 'cpu']);
    assert.equal(bad.code, 1);
    assert.match(bad.err, /--fim-rate must be a number from 0 to 1, got '1\.5'/);
    const spm = await cli(['pretrain', '--data', data, '--out', path.join(tmp, 'cli-spm'), '--fim-spm-rate', '0.5', '--backend', 'cpu']);
    assert.equal(spm.code, 1);
    assert.match(spm.err, /--fim-spm-rate .*needs --fim-rate above 0/);

    // generate and eval load the FIM model (vocabulary 50,260) with its sentinels.
    const model = path.join(tmp, 'gpt2-vocab');
    const g = await cli(['generate', '--model', model, '--prompt', 'function', '--max-new-tokens', '6', '--temperature', '0', '--no-stop', '--json', '--backend', 'cpu']);
    assert.equal(g.code, 0, g.err);
    const gj = JSON.parse(g.out);
    assert.equal(gj.tokens.length, 6);
    assert.ok(gj.tokens.every((id: number) => id >= 0 && id < 50260));
    const e = await cli(['eval', '--model', model, '--data', data, '--json', '--backend', 'cpu']);
    assert.equal(e.code, 0, e.err);
    assert.ok(Number.isFinite(JSON.parse(e.out).loss));
  });

  it('a tiny model trained with --fim-rate 1 on a repetitive corpus fills in the middle between a prefix and a suffix', async function () {
    // On the native kernels (about 10 s; the plain-JavaScript cpu backend would take minutes).
    try {
      await initEngine('native');
    } catch (e) {
      backendMissing(this, 'native', e);
    }
    try {
      // A byte-level tokenizer (256 bytes + <|endoftext|>): every character of DOC is its own token.
      const tokDir = path.join(tmp, 'bytes-tok');
      await saveTokenizer(tokDir, (await trainBpe([DOC], { vocabSize: 257, name: 'bytes' })).model);
      const out = path.join(tmp, 'fim-run');
      const text = Array.from({ length: 400 }, () => DOC).join(EOT);
      const r = await pretrain({
        outDir: out, text, tokenizerDir: tokDir, preset: 'tiny', model: { contextLength: 32, embDim: 32, nHeads: 2, nLayers: 2, dropRate: 0 },
        steps: 250, batchSize: 16, lr: 2e-2, warmupSteps: 20, fimRate: 1, seed: 5, ...quiet, checkpointEvery: 0,
      });
      assert.equal(r.status, 'completed');
      const loaded = await loadModel(out);
      try {
        assert.equal(loaded.config.vocabSize, 260);
        const fim = sentinelsOf(loaded.meta.fim);
        assert.deepEqual(fim, { prefix: 257, middle: 258, suffix: 259 });
        const tok = modelTokenizer(loaded);
        // Hand-worked from DOC: what lies between each prefix and suffix.
        const cases: Array<[string, string, string]> = [
          ['abcd', 'hijkl', 'efg'], ['a', 'l', 'bcdefghijk'], ['', 'efghijkl', 'abcd'], ['abcdefgh', '', 'ijkl'], ['abc', 'fghijkl', 'de'],
        ];
        for (const [prefix, suffix, middle] of cases) {
          const c = await completeText(loaded.model, tok, { prefix, suffix, mode: 'line', maxLines: 1, maxNewTokens: 12 }, { fim });
          assert.equal(c.fim, true);
          assert.equal(c.text, middle, `between ${JSON.stringify(prefix)} and ${JSON.stringify(suffix)}`);
          assert.equal(c.stop, 'eot', 'the model ends the middle with <|endoftext|>, as it was trained');
        }
      } finally {
        loaded.model.dispose();
      }
    } finally {
      await initEngine('cpu');
    }
  });
});
