// The classification commands end to end: `finetune classify` trains a tiny classifier with a summary first and a
// test accuracy at the end, `classify --text` and `classify --data --json` use it (predictions in the file's row
// order), `info` describes it, a language-model command refuses it, and the `finetune` dispatcher lists its tasks.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCli } from '../../../src/cli/app';
import { captureIo } from '../../../src/cli/io';
import { initEngine } from '../../../src/core/engine';
import { buildCli, CLI_JS, interruptCli, jsonEvents, ROOT, steppedOnce } from './builtCli';

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = captureIo();
  const code = await runCli(args, io);
  return { code, out: io.out(), err: io.err() };
}

describe('llm-lab finetune classify, classify, info (classifiers)', function () {
  this.timeout(300_000);
  let tmp: string;
  let data: string;
  let run: string;
  before(async () => {
    await initEngine('cpu');
    tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'llm-lab-classify-cli-'));
    data = path.join(tmp, 'colours.csv');
    const lines = ['text,label'];
    for (let i = 0; i < 24; i++) lines.push(`"red, red ${i % 3 ? 'red' : 'crimson'}",warm`, `blue blue ${i % 2 ? 'blue' : 'navy'},cool`);
    await fsp.writeFile(data, lines.join('\n') + '\n');
    run = path.join(tmp, 'run');
  });
  after(async () => {
    await fsp.rm(tmp, { recursive: true, force: true });
  });

  it('finetune classify prints the plan, trains, and reports the test accuracy and confusion matrix', async () => {
    const r = await cli([
      'finetune', 'classify', '--preset', 'tiny', '--context', '16', '--width', '16', '--layers', '1', '--data', data, '--out', run,
      '--trainable', 'all', '--lr', '1e-2', '--epochs', '4', '--batch', '4', '--eval-every', '0', '--backend', 'cpu',
    ]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /data: .*colours\.csv \(csv, header row; text 'text', label 'label'\): 48 examples/);
    assert.match(r.err, /classes: cool 24, warm 24/);
    assert.match(r.err, /split: 33 training, 4 validation, 11 test/);
    assert.match(r.err, /training: 4 epoch\(s\) × 8 steps = 32 steps/);
    assert.match(r.err, /test: loss [\d.]+, accuracy 100\.00%/);
    assert.match(r.err, /true \\ predicted\s+cool\s+warm/);
    assert.match(r.err, /done at step 32\/32, test accuracy 100\.00%/);
  });

  it('finetune classify --plan takes a classifier\'s body as a base with a new head, and stops before training', async () => {
    const out = path.join(tmp, 'again');
    const r = await cli(['finetune', 'classify', '--model', run, '--data', data, '--out', out, '--trainable', 'head', '--plan', '--json', '--backend', 'cpu']);
    assert.equal(r.code, 0, r.err);
    const plan = JSON.parse(r.out);
    assert.match(plan.base, /the body of classifier .* \(classes cool, warm\) with a new head/);
    assert.equal(plan.trainableParameters, 2 * 16);
    assert.deepEqual(plan.split, { train: 33, val: 4, test: 11 });
    await assert.rejects(fsp.stat(out), /ENOENT/);
  });

  it('classify --text prints the class and every class probability; --json as predictions', async () => {
    const r = await cli(['classify', '--model', run, '--text', 'red red red', '--text', 'blue navy blue', '--backend', 'cpu']);
    assert.equal(r.code, 0, r.err);
    const lines = r.out.trim().split('\n');
    assert.match(lines[0], /^warm {2}\(cool [\d.]+%, warm [\d.]+%\)$/);
    assert.match(lines[1], /^cool /);
    const j = await cli(['classify', '--model', run, '--text', 'red red', '--json', '--backend', 'cpu']);
    const parsed = JSON.parse(j.out) as { predictions: { label: string; probabilities: Record<string, number> }[] };
    assert.equal(parsed.predictions[0].label, 'warm');
    assert.ok(Math.abs(parsed.predictions[0].probabilities.warm + parsed.predictions[0].probabilities.cool - 1) < 1e-5);
  });

  it('classify --data --json gives accuracy, loss, confusion and predictions in the file order', async () => {
    const file = path.join(tmp, 'check.jsonl');
    await fsp.writeFile(file, ['{"text":"blue blue","label":"cool"}', '{"text":"red red crimson","label":"warm"}', '{"text":"navy blue","label":"cool"}'].join('\n'));
    const r = await cli(['classify', '--model', run, '--data', file, '--json', '--backend', 'cpu']);
    assert.equal(r.code, 0, r.err);
    const j = JSON.parse(r.out);
    assert.deepEqual(Object.keys(j), ['accuracy', 'loss', 'confusion', 'predictions']);
    assert.equal(j.accuracy, 1);
    assert.deepEqual(j.confusion, { labels: ['cool', 'warm'], counts: [[2, 0], [0, 1]] });
    assert.deepEqual(j.predictions.map((p: { label: string }) => p.label), ['cool', 'warm', 'cool']);
    const bad = await cli(['classify', '--model', run, '--data', data.replace('colours', 'missing'), '--backend', 'cpu']);
    assert.equal(bad.code, 1);
  });

  it('classify refuses a label the classifier does not know, with the line', async () => {
    const file = path.join(tmp, 'odd.tsv');
    await fsp.writeFile(file, 'warm\tred\nlukewarm\tpink\n');
    const r = await cli(['classify', '--model', run, '--data', file, '--label-field', '1', '--text-field', '2', '--backend', 'cpu']);
    assert.equal(r.code, 1);
    assert.match(r.err, /odd\.tsv:2: label 'lukewarm' is not one of the classifier's classes \(cool, warm\)/);
  });

  it('info shows a classifier\'s classes and trained parameters; generate refuses it', async () => {
    const r = await cli(['info', '--model', run, '--json', '--backend', 'cpu']);
    assert.equal(r.code, 0, r.err);
    const j = JSON.parse(r.out);
    assert.deepEqual(j.labels, ['cool', 'warm']);
    assert.equal(j.classes, 2);
    assert.equal(j.trainable, 'all');
    assert.equal(j.trainableParameters, j.parameters);
    const head = await cli(['info', '--model', run, '--trainable', 'head', '--json', '--backend', 'cpu']);
    assert.equal(JSON.parse(head.out).trainableParameters, 2 * 16);
    const g = await cli(['generate', '--model', run, '--prompt', 'hi', '--backend', 'cpu']);
    assert.equal(g.code, 1);
    assert.match(g.err, /is a classifier \(classes cool, warm\), not a language model/);
  });

  it('info --preset gpt2 --classes 2 --trainable last-block counts the book\'s trained parameters (worked by hand)', async () => {
    const r = await cli(['info', '--preset', 'gpt2', '--classes', '2', '--trainable', 'last-block', '--json', '--backend', 'cpu']);
    assert.equal(r.code, 0, r.err);
    const j = JSON.parse(r.out);
    // A block of width 768: 12·768² + 13·768 = 7,087,872; the final norm 2·768; the head 2·768.
    assert.equal(j.trainableParameters, 7_087_872 + 1_536 + 1_536);
    assert.equal(j.parameters, 124_439_808 + 1_536);
  });

  it('finetune lists its tasks, and refuses an unknown one or missing flags', async () => {
    const h = await cli(['finetune', '--help']);
    assert.equal(h.code, 0);
    assert.match(h.out, /Commands:\n {2}classify/);
    const u = await cli(['finetune', 'translate']);
    assert.equal(u.code, 1);
    assert.match(u.err, /unknown command 'finetune translate'; 'finetune' takes one of: classify/);
    const m = await cli(['finetune', 'classify', '--data', data, '--out', path.join(tmp, 'x')]);
    assert.equal(m.code, 1);
    assert.match(m.err, /needs --model DIR .* or --preset NAME/);
    const f = await cli(['finetune', 'classify', '--preset', 'tiny', '--data', data, '--out', path.join(tmp, 'x'), '--trainable', 'some']);
    assert.match(f.err, /--trainable must be head, last-block, last-N/);
  });
});

describe('Ctrl-C and --resume of llm-lab finetune classify (the built binary)', () => {
  before(function () {
    this.timeout(180_000);
    buildCli();
  });

  it('stops on SIGINT after a step with a checkpoint (exit 130), and --resume finishes the run with its test', async function () {
    this.timeout(300_000);
    const tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'llm-lab-classify-sigint-'));
    try {
      const out = path.join(tmp, 'run');
      const args = [
        'finetune', 'classify', '--preset', 'tiny', '--context', '16', '--width', '16', '--layers', '1', '--data', 'samples/SMSSpamCollection.tsv',
        '--balance', '--epochs', '1', '--batch', '50', '--eval-every', '0', '--out', out, '--json', '--backend', 'cpu',
      ];
      const r = await interruptCli(args, steppedOnce, 'SIGINT', 120_000);
      assert.equal(r.code, 130, r.stderr);
      const result = jsonEvents(r.stdout).find((e) => e.type === 'result');
      assert.equal(result.status, 'cancelled');
      assert.ok(result.step >= 1 && result.step < 20, `stopped at ${result.step} of 20`);
      const again = spawnSync(process.execPath, [CLI_JS, 'finetune', 'classify', '--data', 'samples/SMSSpamCollection.tsv', '--out', out, '--resume', '--json', '--backend', 'cpu'], {
        cwd: ROOT, encoding: 'utf8',
      });
      assert.equal(again.status, 0, again.stderr);
      const events = jsonEvents(again.stdout);
      assert.equal(events.find((e) => e.type === 'start').step, result.step);
      assert.ok(events.some((e) => e.type === 'test' && e.confusion.labels.join() === 'ham,spam'));
      assert.equal(events.find((e) => e.type === 'result').step, 20); // 1,045 training rows / 50 = 20 steps
    } finally {
      await fsp.rm(tmp, { recursive: true, force: true });
    }
  });
});
