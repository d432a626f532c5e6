// The built binary (dist/cli.js), not the in-process CLI, so the package's own gradient bundle is what trains:
// a tiny run trains 2 steps, resumes to 3 with the losses of an uninterrupted 3-step run, and its model
// generates. A copy of the binary without the bundle must refuse with one clear error line (after the data
// summary) and exit 1 before writing a checkpoint.
import * as assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const root = path.resolve(__dirname, '../../../..');
const cliJs = path.join(root, 'dist', 'cli.js');

function run(args: string[], cli = cliJs) {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: root, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function stepLosses(out: string): Map<number, number> {
  const steps = out.split('\n').filter((l) => l.startsWith('{"type":"step"')).map((l) => JSON.parse(l) as { step: number; loss: number });
  return new Map(steps.map((s) => [s.step, s.loss]));
}

describe('the built llm-lab binary trains (or refuses clearly)', function () {
  this.timeout(300_000);
  let tmp: string;
  let gradientsMissing: string | undefined;
  before(() => {
    execFileSync(process.execPath, ['esbuild.mjs'], { cwd: root, stdio: 'pipe' });
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'llm-lab-qa-built-'));
    const info = run(['info', '--preset', 'tiny', '--json']);
    assert.equal(info.code, 0, info.err);
    gradientsMissing = (JSON.parse(info.out) as { engine: { gradientsMissing?: string } }).engine.gradientsMissing;
  });
  after(() => {
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  // The cosine decay spans --steps, so the 2-then-3-step run and the 3-step run see the same learning rates
  // only while warming up: --warmup 10 keeps all three steps inside the warmup.
  const shape = ['--context', '8', '--width', '16', '--heads', '1', '--layers', '1', '--batch', '2', '--eval-every', '0', '--sample-every', '0', '--warmup', '10'];
  const data = ['--data', path.join(root, 'samples', 'the-verdict.txt')];

  it('pretrains, resumes to the losses of an uninterrupted run, and generates from the run folder', () => {
    assert.equal(gradientsMissing, undefined, 'npm run build made no usable gradient bundle');
    const whole = run(['pretrain', ...data, '--out', path.join(tmp, 'whole'), ...shape, '--steps', '3', '--json']);
    assert.equal(whole.code, 0, whole.err);
    const split = path.join(tmp, 'split');
    const first = run(['pretrain', ...data, '--out', split, ...shape, '--steps', '2', '--json']);
    assert.equal(first.code, 0, first.err);
    const second = run(['pretrain', ...data, '--out', split, ...shape, '--steps', '3', '--resume', '--json']);
    assert.equal(second.code, 0, second.err);
    const w = stepLosses(whole.out);
    assert.deepEqual([...w.keys()], [1, 2, 3]);
    assert.deepEqual([...stepLosses(first.out)], [...w].slice(0, 2));
    assert.equal(stepLosses(second.out).get(3), w.get(3));
    const gen = run(['generate', '--model', split, '--prompt', 'I had', '--max-new-tokens', '4', '--temperature', '0', '--no-stop', '--json']);
    assert.equal(gen.code, 0, gen.err);
    assert.equal((JSON.parse(gen.out) as { tokens: number[] }).tokens.length, 4);
  });

  it('without the gradient bundle, refuses to pretrain with one line, exit 1 and no run folder', () => {
    // A copy of the package with the built CLI but no build/tfjs-gradients.cjs.
    const pkg = path.join(tmp, 'no-gradients');
    fs.mkdirSync(path.join(pkg, 'dist'), { recursive: true });
    fs.copyFileSync(path.join(root, 'package.json'), path.join(pkg, 'package.json'));
    fs.copyFileSync(cliJs, path.join(pkg, 'dist', 'cli.js'));
    const out = path.join(tmp, 'refused');
    const r = run(['pretrain', ...data, '--out', out, ...shape, '--steps', '1'], path.join(pkg, 'dist', 'cli.js'));
    assert.equal(r.code, 1);
    const errors = r.err.split('\n').filter((l) => l.startsWith('llm-lab:'));
    assert.equal(errors.length, 1, r.err);
    assert.match(errors[0], /gradients are not registered.*then try again\.$/);
    assert.equal(r.err.trimEnd().split('\n').pop(), errors[0], 'the error is the last thing said');
    assert.doesNotMatch(r.err, /\n\s+at /);
    assert.ok(!fs.existsSync(path.join(out, 'checkpoints')), 'no checkpoint may be written');
  });
});
