// Files a user may point the CLI at that are not what it expects: a 50 MB text (tokenize streams it in
// bounded memory; eval refuses it above its stated cap, saying which flag raises it), binary and non-UTF-8
// files (eval refuses them as training does), and a pretraining file over the cap (--max-file-mb takes it).
import * as assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCli } from '../../../src/cli/app';
import { captureIo } from '../../../src/cli/io';
import { saveModel } from '../../../src/core/checkpoint';
import { initEngine } from '../../../src/core/engine';
import { registerGradients } from '../../../src/core/engine/gradients';
import { makeConfig } from '../../../src/core/model/config';
import { GptModel } from '../../../src/core/model/gpt';
import { getTokenizer } from '../../../src/core/tokenizer';

const root = path.resolve(__dirname, '../../../..');
const cliJs = path.join(root, 'dist', 'cli.js');

async function cli(args: string[], cwd: string) {
  const io = captureIo({ cwd });
  const code = await runCli(args, io);
  return { code, out: io.out(), err: io.err() };
}

/** Runs the built CLI; keeps stdout's first line, its size and line count (not the whole output). */
function runBinary(args: string[]): Promise<{ code: number | null; firstLine: string; lines: number; bytes: number; stderr: string }> {
  const child = spawn(process.execPath, [cliJs, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let head = '';
  let lines = 0;
  let bytes = 0;
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => {
    if (head.length < 200) head += b.toString('utf8', 0, Math.min(b.length, 200));
    bytes += b.length;
    for (let i = b.indexOf(10); i >= 0; i = b.indexOf(10, i + 1)) lines++;
  });
  child.stderr.on('data', (b: Buffer) => void (stderr += b));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, firstLine: head.split('\n')[0], lines, bytes, stderr })));
}

describe('hostile files given to the CLI', function () {
  this.timeout(300_000);
  let tmp: string;
  let big: string;
  let copies: number;
  const verdict = path.join(root, 'samples', 'the-verdict.txt');

  before(async () => {
    execFileSync(process.execPath, ['esbuild.mjs'], { cwd: root, stdio: 'pipe' });
    await initEngine('cpu');
    assert.equal(registerGradients(), undefined);
    tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'llm-lab-hostile-'));
    const model = GptModel.create(makeConfig('tiny', { contextLength: 16, embDim: 16, nHeads: 2, nLayers: 1 }), 4);
    await saveModel(path.join(tmp, 'model'), model);
    model.dispose();
    const one = await fsp.readFile(verdict, 'utf8');
    copies = Math.ceil(50e6 / one.length);
    big = path.join(tmp, 'big.txt');
    await fsp.writeFile(big, Array(copies).fill(one).join('<|endoftext|>'));
  });
  after(async () => {
    await fsp.rm(tmp, { recursive: true, force: true });
  });

  it('tokenize streams a 50 MB file: every token printed, in bounded memory', async () => {
    assert.ok((await fsp.stat(big)).size >= 50e6);
    const one = getTokenizer('gpt2').encode(await fsp.readFile(verdict, 'utf8')).length;
    const expected = copies * one + (copies - 1); // the copies' tokens and an <|endoftext|> between each two
    const r = await runBinary(['tokenize', '--file', big]);
    assert.equal(r.code, 0, r.stderr.slice(0, 1000));
    assert.equal(r.firstLine, `${expected} tokens (gpt2)`);
    assert.equal(r.lines, expected + 1);
  });

  it('eval refuses a 50 MB file above its cap, naming the flag that raises it', async () => {
    const r = await cli(['eval', '--model', 'model', '--data', big, '--backend', 'cpu'], tmp);
    assert.equal(r.code, 1, r.err);
    assert.match(r.err, /^llm-lab: Data file .*big\.txt cannot be used: larger than the size cap \(4\d\.\d MB > 2\.0 MB\); raise --max-file-mb to include it\.\n$/);
  });

  it('eval refuses binary and non-UTF-8 files, as pretrain does', async () => {
    await fsp.writeFile(path.join(tmp, 'image.bin'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]));
    await fsp.writeFile(path.join(tmp, 'latin1.txt'), Buffer.from('Caf\xe9 cr\xe8me br\xfbl\xe9e, na\xefve, fa\xe7ade.', 'latin1'));
    for (const [file, why] of [['image.bin', /binary file/], ['latin1.txt', /not valid UTF-8/]] as const) {
      const r = await cli(['eval', '--model', 'model', '--data', file, '--backend', 'cpu'], tmp);
      assert.equal(r.code, 1, r.err);
      assert.match(r.err, why);
      assert.doesNotMatch(r.out, /perplexity/);
      const t = await cli(['pretrain', '--data', file, '--out', 'run', '--steps', '1'], tmp);
      assert.equal(t.code, 1);
      assert.match(t.err, why);
    }
  });

  it('generate and eval refuse a model with a NaN weight instead of printing garbage with exit 0', async () => {
    const src = path.join(tmp, 'model');
    const nan = path.join(tmp, 'nan-model');
    await fsp.cp(src, nan, { recursive: true });
    const file = path.join(nan, 'model.safetensors');
    const bytes = await fsp.readFile(file);
    const dataStart = 8 + Number(bytes.readBigUInt64LE(0));
    bytes.writeUInt32LE(0x7fc00000, dataStart + 4 * 10); // a NaN in the first tensor
    await fsp.writeFile(file, bytes);
    await fsp.writeFile(path.join(tmp, 'short.txt'), 'I had always thought Jack Gisburn rather a cheap genius.');
    for (const args of [['generate', '--model', 'nan-model', '--prompt', 'Hello', '--max-new-tokens', '5'], ['eval', '--model', 'nan-model', '--data', 'short.txt']]) {
      const r = await cli([...args, '--backend', 'cpu'], tmp);
      assert.equal(r.code, 1, `${args[0]}: ${r.out}${r.err}`);
      assert.match(r.err, /holds NaN at index \d+; a model with NaN or infinite weights/);
    }
  });

  it('pretrain reads a file over 2 MB with --max-file-mb, and its skip message names that flag', async () => {
    const three = path.join(tmp, 'three.txt');
    const one = await fsp.readFile(verdict, 'utf8');
    await fsp.writeFile(three, one.repeat(Math.ceil(3e6 / one.length)));
    const refused = await cli(['pretrain', '--data', three, '--out', 'r3', '--steps', '1'], tmp);
    assert.equal(refused.code, 1);
    assert.match(refused.err, /raise --max-file-mb to include it/);
    assert.doesNotMatch(refused.err, /maxFileBytes/);
    const shape = ['--context', '8', '--width', '16', '--heads', '1', '--layers', '1', '--batch', '1', '--eval-every', '0', '--sample-every', '0'];
    const r = await cli(['pretrain', '--data', three, '--out', 'r4', '--steps', '1', '--max-file-mb', '4', ...shape], tmp);
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /data: 1 file, 3,\d{3},\d{3} bytes\n/);
  });
});
