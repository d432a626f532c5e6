import * as assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCli } from '../../../src/cli/app';
import { captureIo } from '../../../src/cli/io';
import { saveModel } from '../../../src/core/checkpoint';
import { initEngine, tf } from '../../../src/core/engine';
import { evaluateText } from '../../../src/core/eval';
import { generateText } from '../../../src/core/generate';
import { makeConfig } from '../../../src/core/model/config';
import { GptModel } from '../../../src/core/model/gpt';
import { getTokenizer } from '../../../src/core/tokenizer';
import { registerGradients } from '../../../src/core/engine/gradients';

const BOOK_TEXT = 'Hello, do you like tea? <|endoftext|> In the sunlit terracesof someunknownPlace.';
const BOOK_IDS = [15496, 11, 466, 345, 588, 8887, 30, 220, 50256, 554, 262, 4252, 18250, 8812, 2114, 1659, 617, 34680, 27271, 13];

async function cli(args: string[], cwd?: string) {
  const io = captureIo({ cwd });
  const code = await runCli(args, io);
  return { code, out: io.out(), err: io.err() };
}

/** A user mistake: exit 1 and exactly one line on stderr, no stack trace. */
function assertOneLineError(r: { code: number; err: string }, mentions: RegExp): void {
  assert.equal(r.code, 1, r.err);
  const lines = r.err.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line, got:\n${r.err}`);
  assert.match(lines[0], /^llm-lab: /);
  assert.match(lines[0], mentions);
  assert.doesNotMatch(r.err, /\n\s+at /);
}

describe('llm-lab CLI', () => {
  let tmp: string;
  let modelDir: string;
  const config = makeConfig('tiny', { contextLength: 16, embDim: 32, nHeads: 2, nLayers: 1 });

  before(async () => {
    await initEngine('cpu');
    assert.equal(registerGradients(), undefined);
    tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'llm-lab-cli-'));
    modelDir = path.join(tmp, 'model');
    const model = GptModel.create(config, 3);
    await saveModel(modelDir, model);
    model.dispose();
    await fsp.writeFile(path.join(tmp, 'text.txt'), 'I had always thought Jack Gisburn rather a cheap genius--though a good fellow enough.');
  });
  after(async () => {
    await fsp.rm(tmp, { recursive: true, force: true });
  });

  it('tokenize --json gives the book’s GPT-2 ids, tokens and spans', async () => {
    const r = await cli(['tokenize', '--json', BOOK_TEXT]);
    assert.equal(r.code, 0, r.err);
    const j = JSON.parse(r.out);
    assert.deepEqual(j.ids, BOOK_IDS);
    assert.equal(j.tokens.length, BOOK_IDS.length);
    assert.equal(j.tokens[8], '<|endoftext|>');
    assert.deepEqual(j.spans[0], [0, 5]);
    assert.equal(j.tokens.join(''), BOOK_TEXT);
    // Written piece by piece, the document is laid out exactly as JSON.stringify would lay it out.
    const expected = getTokenizer('gpt2').tokenize(BOOK_TEXT, { allowSpecial: true });
    assert.equal(r.out, JSON.stringify({ encoding: 'gpt2', count: BOOK_IDS.length, ...expected }, null, 2) + '\n');
    assert.equal((await cli(['tokenize', '--json', ''])).out, JSON.stringify({ encoding: 'gpt2', count: 0, ids: [], tokens: [], spans: [] }, null, 2) + '\n');
  });

  it('tokenize reads --file and prints one row a token', async () => {
    const r = await cli(['tokenize', '--file', 'text.txt'], tmp);
    assert.equal(r.code, 0, r.err);
    const n = getTokenizer('gpt2').encode(await fsp.readFile(path.join(tmp, 'text.txt'), 'utf8')).length;
    assert.match(r.out, new RegExp(`^${n} tokens \\(gpt2\\)`));
    assert.equal(r.out.trimEnd().split('\n').length, n + 1);
  });

  it('info --preset gpt2 --json gives 124,439,808 parameters and the backend', async () => {
    const r = await cli(['info', '--preset', 'gpt2', '--json']);
    assert.equal(r.code, 0, r.err);
    const j = JSON.parse(r.out);
    assert.equal(j.parameters, 124_439_808);
    assert.equal(j.engine.backend, 'cpu');
    assert.ok(j.training.trainingBytes > j.inferenceBytes);
    const text = await cli(['info', '--preset', 'gpt2']);
    assert.match(text.out, /parameters: 124,439,808/);
    assert.match(text.out, /Backends, fastest first:/);
    assert.match(text.out, /\* cpu +in use/);
  });

  it('info --model reads a model folder’s config', async () => {
    const r = await cli(['info', '--model', modelDir, '--json']);
    assert.equal(r.code, 0, r.err);
    assert.equal(JSON.parse(r.out).config.contextLength, 16);
  });

  it('generate --temperature 0 streams the greedy continuation, the same as the library', async () => {
    const r = await cli(['generate', '--model', modelDir, '--prompt', 'Every effort moves you', '--max-new-tokens', '10', '--temperature', '0', '--json', '--no-stop']);
    assert.equal(r.code, 0, r.err);
    const j = JSON.parse(r.out);
    const model = GptModel.create(config, 3);
    const ref = await generateText(model, getTokenizer('gpt2'), 'Every effort moves you', { maxNewTokens: 10, temperature: 0, stopAtEot: false });
    model.dispose();
    assert.deepEqual(j.tokens, ref.ids);
    assert.equal(j.text, ref.text);
    const plain = await cli(['generate', '--model', modelDir, '--prompt', 'Every effort moves you', '--max-new-tokens', '10', '--temperature', '0', '--no-stop']);
    assert.equal(plain.out, `Every effort moves you${ref.text}\n`);
  });

  it('generate with a seed repeats itself', async () => {
    const args = ['generate', '--model', modelDir, '--prompt', 'Hello', '--max-new-tokens', '8', '--temperature', '1.2', '--top-k', '50', '--seed', '9', '--json'];
    const a = JSON.parse((await cli(args)).out);
    const b = JSON.parse((await cli(args)).out);
    assert.deepEqual(a.tokens, b.tokens);
    assert.equal(a.seed, 9);
  });

  it('eval --json gives the library’s loss, perplexity and token count', async () => {
    const r = await cli(['eval', '--model', modelDir, '--data', path.join(tmp, 'text.txt'), '--json']);
    assert.equal(r.code, 0, r.err);
    const j = JSON.parse(r.out);
    const model = GptModel.create(config, 3);
    const ref = await evaluateText(model, getTokenizer('gpt2'), await fsp.readFile(path.join(tmp, 'text.txt'), 'utf8'));
    model.dispose();
    assert.ok(Math.abs(j.loss - ref.loss) < 1e-6);
    assert.ok(Math.abs(j.perplexity - Math.exp(j.loss)) < 1e-6 * j.perplexity);
    assert.equal(j.tokens, ref.tokens);
    assert.ok(j.windows > 1, 'the text is longer than the context');
  });

  it('turns user mistakes into one line on stderr and exit 1', async () => {
    assertOneLineError(await cli(['frobnicate']), /unknown command 'frobnicate'/);
    assertOneLineError(await cli(['info', '--bogus']), /Unknown flag --bogus/);
    assertOneLineError(await cli(['info', '--preset', 'huge']), /--preset must be one of/);
    assertOneLineError(await cli(['info', '--backend', 'gpu']), /--backend must be one of/);
    assertOneLineError(await cli(['generate', '--prompt', 'x']), /needs --model/);
    assertOneLineError(await cli(['generate', '--model', modelDir]), /needs --prompt/);
    assertOneLineError(await cli(['generate', '--model', modelDir, '--prompt', 'x', '--temperature', 'hot']), /--temperature must be a number/);
    assertOneLineError(await cli(['generate', '--model', modelDir, '--prompt', 'x', '--top-p', '0']), /--top-p must be a number above 0/);
    assertOneLineError(await cli(['generate', '--model', modelDir, '--prompt']), /Flag --prompt needs a value/);
    assertOneLineError(await cli(['generate', '--model', path.join(tmp, 'nowhere'), '--prompt', 'x']), /does not exist/);
    assertOneLineError(await cli(['generate', '--model', tmp, '--prompt', 'x']), /config\.json is missing/);
    assertOneLineError(await cli(['eval', '--model', modelDir, '--data', path.join(tmp, 'missing.txt')]), /missing\.txt does not exist/);
    assertOneLineError(await cli(['tokenize', '--file', 'missing.txt'], tmp), /does not exist/);
    assertOneLineError(await cli(['tokenize']), /Give a text/);
    assertOneLineError(await cli(['info', 'stray']), /Unexpected argument 'stray'/);
  });

  it('names a broken model folder instead of crashing', async () => {
    const broken = path.join(tmp, 'broken');
    await fsp.mkdir(broken);
    await fsp.writeFile(path.join(broken, 'config.json'), '{ not json');
    assertOneLineError(await cli(['generate', '--model', broken, '--prompt', 'x']), /not valid JSON/);
  });

  it('prints help for every command, and the command list', async () => {
    const top = await cli(['--help']);
    assert.equal(top.code, 0);
    for (const name of ['tokenize', 'pretrain', 'generate', 'eval', 'info', 'demo']) {
      assert.match(top.out, new RegExp(`\\n  ${name} `));
      const h = await cli([name, '--help']);
      assert.equal(h.code, 0);
      assert.match(h.out, new RegExp(`^Usage: llm-lab ${name}`));
      assert.match(h.out, /--json/);
      assert.match(h.out, /Examples:/);
    }
  });

  it('pretrain runs a few steps, then --resume continues the run to --steps', async () => {
    const corpus = path.join(tmp, 'corpus.txt');
    await fsp.writeFile(corpus, (await fsp.readFile(path.join(tmp, 'text.txt'), 'utf8') + ' ').repeat(12));
    const run = path.join(tmp, 'run');
    // The smallest model the GPT-2 vocabulary allows, so a step is quick even on the plain-JS backend.
    const shape = ['--context', '8', '--width', '16', '--heads', '1', '--layers', '1', '--batch', '1'];
    const common = ['--data', corpus, '--out', run, ...shape, '--eval-every', '0', '--sample-every', '0', '--json'];
    const first = await cli(['pretrain', ...common, '--steps', '2']);
    assert.equal(first.code, 0, first.err);
    const firstSteps = first.out.split('\n').filter((l) => l.startsWith('{"type":"step"')).map((l) => JSON.parse(l).step);
    assert.deepEqual(firstSteps, [1, 2]);
    const second = await cli(['pretrain', ...common, '--steps', '3', '--resume']);
    assert.equal(second.code, 0, second.err);
    const events = second.out.split('\n').filter((l) => l.startsWith('{"type"')).map((l) => JSON.parse(l));
    assert.equal(events[0].type, 'start');
    assert.equal(events[0].resumed, true);
    assert.deepEqual(events.filter((e) => e.type === 'step').map((e) => e.step), [3]);
    const info = await cli(['info', '--model', run, '--json']);
    assert.deepEqual([JSON.parse(info.out).config.contextLength, JSON.parse(info.out).config.embDim], [8, 16]);
    const gen = await cli(['generate', '--model', run, '--prompt', 'I had', '--max-new-tokens', '3', '--temperature', '0', '--json', '--no-stop']);
    assert.equal(JSON.parse(gen.out).tokens.length, 3);
    // A resume to fewer steps than the run has made is refused, instead of "done at step 3/2".
    assertOneLineError(await cli(['pretrain', ...common, '--steps', '2', '--resume']), /already at step 3, past the 2 steps asked for/);
    assertOneLineError(await cli(['pretrain', '--out', run]), /needs --data/);
    assertOneLineError(await cli(['pretrain', '--data', path.join(tmp, 'none.txt'), '--out', run]), /none\.txt/);
  });

  it('reads numbers only in decimal, and names flags rather than library options in errors', async () => {
    for (const [flag, value] of [['--steps', '0x10'], ['--steps', '1e1'], ['--steps', ' 5'], ['--batch', '0b11'], ['--lr', '0x1'], ['--lr', 'Infinity'], ['--seed', '0o7']]) {
      assertOneLineError(await cli(['pretrain', '--data', 'text.txt', '--out', 'r', flag, value], tmp), new RegExp(`${flag} must be a (whole )?number .*got '${value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}'`));
    }
    const r = await cli(['pretrain', '--data', 'text.txt', '--out', 'r', '--batch', '3', '--grad-accum', '2', '--json'], tmp);
    assertOneLineError(r, /--grad-accum must be a whole number that divides --batch \(3\), got 2/);
    assert.doesNotMatch(r.err, /batchSize|gradAccumSteps/);
    assertOneLineError(await cli(['pretrain', '--data', 'text.txt', '--out', 'r', '--width', '30', '--heads', '4', '--json'], tmp), /--width \(30\) must divide evenly by --heads \(4\)/);
  });

  it('leaks no tensors across generate and eval', async () => {
    const before = tf.memory().numTensors;
    await cli(['generate', '--model', modelDir, '--prompt', 'Hi', '--max-new-tokens', '5', '--json']);
    await cli(['eval', '--model', modelDir, '--data', path.join(tmp, 'text.txt'), '--json']);
    assert.equal(tf.memory().numTensors, before);
  });
});
