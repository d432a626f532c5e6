import * as assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCli } from '../../../src/cli/app';
import { captureIo } from '../../../src/cli/io';
import { getTokenizer } from '../../../src/core/tokenizer';
import { loadTokenizer } from '../../../src/core/tokenizer/files';

async function cli(args: string[], cwd?: string) {
  const io = captureIo({ cwd });
  const code = await runCli(args, io);
  return { code, out: io.out(), err: io.err() };
}

describe('llm-lab tokenizer train and tokenize --encoding DIR', () => {
  let tmp: string;
  const sample = path.join(__dirname, '../../../../samples/the-verdict.txt');

  before(async () => {
    tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'llm-lab-tokcli-'));
    await fsp.mkdir(path.join(tmp, 'docs'));
    await fsp.copyFile(sample, path.join(tmp, 'docs', 'verdict.txt'));
    await fsp.writeFile(path.join(tmp, 'docs', 'code.md'), '# Notes\n\n```ts\nconst x = 1;\n```\n'.repeat(50));
  });
  after(async () => {
    await fsp.rm(tmp, { recursive: true, force: true });
  });

  it('trains on a folder, saves the three files and reports compression beside GPT-2', async () => {
    const r = await cli(['tokenizer', 'train', '--data', 'docs', '--vocab-size', '600', '--out', 'tok', '--pattern', 'gpt4', '--special', '<|pad|>', '--json'], tmp);
    assert.equal(r.code, 0, r.err);
    const j = JSON.parse(r.out);
    assert.equal(j.vocabSize, 600);
    assert.equal(j.merges, 600 - 256 - 2);
    assert.deepEqual(j.specials, ['<|endoftext|>', '<|pad|>']);
    assert.equal(j.corpus.files, 2);
    for (const f of ['tokenizer.model', 'tokenizer.vocab', 'tokenizer.json']) await fsp.access(path.join(tmp, 'tok', f));
    // GPT-2's count on the same files, computed here independently of the command.
    const docs = await Promise.all(['code.md', 'verdict.txt'].map((f) => fsp.readFile(path.join(tmp, 'docs', f), 'utf8')));
    const gpt2 = getTokenizer('gpt2');
    assert.equal(j.compression.gpt2.tokens, docs.reduce((n, d) => n + gpt2.encode(d).length, 0));
    const mine = await loadTokenizer(path.join(tmp, 'tok'));
    assert.equal(j.compression.trained.tokens, docs.reduce((n, d) => n + mine.encode(d).length, 0));
    assert.equal(j.compression.trained.chars, docs[0].length + docs[1].length);
  });

  it('prints progress and a summary for people', async () => {
    const r = await cli(['tokenizer', 'train', '--data', 'docs/verdict.txt', '--vocab-size', '400', '--out', 'tok2'], tmp);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^Learned 143 merges \(400 tokens, gpt2 split\) from 20,479 bytes/);
    assert.match(r.out, /tok2 +[\d,]+ tokens +0\.\d{4} tokens\/char\n +gpt2 +5,145 tokens +0\.2512 tokens\/char/);
    assert.match(r.err, /data: 1 file, 20,479 bytes/);
    assert.match(r.err, /merges/);
  });

  it('tokenize --encoding DIR shows the trained ids and GPT-2’s count side by side', async () => {
    await cli(['tokenizer', 'train', '--data', 'docs', '--vocab-size', '500', '--out', 'tok3'], tmp);
    const text = 'I had always thought Jack Gisburn rather a cheap genius';
    const r = await cli(['tokenize', '--encoding', 'tok3', '--json', text], tmp);
    assert.equal(r.code, 0, r.err);
    const j = JSON.parse(r.out);
    const mine = await loadTokenizer(path.join(tmp, 'tok3'));
    assert.deepEqual(j.ids, mine.encode(text));
    assert.equal(j.gpt2Count, getTokenizer('gpt2').encode(text).length);
    assert.equal(j.encoding, 'tok3');
    const plain = await cli(['tokenize', '--encoding', 'tok3', text], tmp);
    assert.match(plain.out, new RegExp(`^${j.count} tokens \\(tok3\\)  vs  ${j.gpt2Count} tokens \\(gpt2\\)  for ${text.length} characters\\n`));
  });

  it('turns every mistake into one line and exit 1, before any training, and never overwrites', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['tokenizer'], /takes the subcommand 'train'/],
      [['tokenizer', 'fit'], /not 'fit'/],
      [['tokenizer', 'train', '--vocab-size', '500', '--out', 'x'], /needs --data/],
      [['tokenizer', 'train', '--data', 'docs', '--out', 'x'], /needs --vocab-size/],
      [['tokenizer', 'train', '--data', 'docs', '--vocab-size', '100', '--out', 'x'], /--vocab-size must be a whole number from 257/],
      [['tokenizer', 'train', '--data', 'docs', '--vocab-size', '500'], /needs --out DIR/],
      [['tokenizer', 'train', '--data', 'docs', '--vocab-size', '500', '--out', 'x', '--pattern', 'gpt5'], /--pattern must be one of gpt2, gpt4/],
      [['tokenizer', 'train', '--data', 'nothing-here', '--vocab-size', '500', '--out', 'x'], /No files match/],
      [['tokenizer', 'train', '--data', 'docs', '--vocab-size', '500', '--out', 'tok'], /already exists; LLM Lab never overwrites/],
      [['tokenize', '--encoding', 'docs', 'hi'], /--encoding must be one of gpt2, cl100k_base, o200k_base or a folder/],
    ];
    await cli(['tokenizer', 'train', '--data', 'docs', '--vocab-size', '300', '--out', 'tok'], tmp);
    const before = await fsp.readFile(path.join(tmp, 'tok', 'tokenizer.model'), 'utf8');
    for (const [args, msg] of cases) {
      const r = await cli(args, tmp);
      assert.equal(r.code, 1, `${args.join(' ')}: ${r.err}`);
      assert.match(r.err, msg);
      assert.equal(r.err.trimEnd().split('\n').filter((l) => l.startsWith('llm-lab:')).length, 1);
      assert.doesNotMatch(r.err, /\n\s+at /);
    }
    assert.equal(await fsp.readFile(path.join(tmp, 'tok', 'tokenizer.model'), 'utf8'), before);
    await assert.rejects(fsp.access(path.join(tmp, 'x')), 'nothing was written for a failed command');
  });
});
