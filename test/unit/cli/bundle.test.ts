import * as assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as path from 'node:path';

const root = path.resolve(__dirname, '../../../..');
const cliJs = path.join(root, 'dist', 'cli.js');

function run(args: string[]) {
  const r = spawnSync(process.execPath, [cliJs, ...args], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('the built llm-lab binary (dist/cli.js)', () => {
  before(function () {
    this.timeout(180_000);
    execFileSync(process.execPath, ['esbuild.mjs'], { cwd: root, stdio: 'pipe' });
  });

  it('tokenizes to the book’s ids', () => {
    const r = run(['tokenize', '--json', 'Hello, do you like tea? <|endoftext|> In the sunlit terracesof someunknownPlace.']);
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(JSON.parse(r.out).ids, [15496, 11, 466, 345, 588, 8887, 30, 220, 50256, 554, 262, 4252, 18250, 8812, 2114, 1659, 617, 34680, 27271, 13]);
  });

  it('starts a compute backend and counts GPT-2’s parameters', () => {
    const r = run(['info', '--preset', 'gpt2', '--json']);
    assert.equal(r.code, 0, r.err);
    const j = JSON.parse(r.out);
    assert.equal(j.parameters, 124_439_808);
    assert.ok(j.engine.backend);
    assert.equal(r.err, '', 'nothing on stderr');
  });

  it('answers a bad flag and a missing file with one line and exit 1, no stack trace', () => {
    for (const args of [['generate', '--bogus'], ['eval', '--model', 'nowhere-model', '--data', 'nowhere.txt'], ['nonsense']]) {
      const r = run(args);
      assert.equal(r.code, 1, `${args.join(' ')}: ${r.err}`);
      assert.equal(r.err.trimEnd().split('\n').length, 1, r.err);
      assert.doesNotMatch(r.err, /\n\s+at /);
      assert.equal(r.out, '');
    }
  });
});
