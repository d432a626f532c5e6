// What `--out` and `--model` may be, by one rule (core/checkpoint/layout's describeFolder): a new run never
// writes into a folder of the user's files, a model folder or a folder with a stray metrics.jsonl or run.json;
// `--resume` refuses a folder that is not a run; the cleanup of interrupted checkpoints removes only what LLM Lab
// made; and a folder that is a model and a run at once is refused by eval and generate instead of guessed at.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
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

const root = path.resolve(__dirname, '../../../..');
const verdict = path.join(root, 'samples', 'the-verdict.txt');
const SMALL = ['--context', '8', '--width', '16', '--heads', '1', '--layers', '1', '--batch', '1', '--eval-every', '0', '--sample-every', '0', '--backend', 'cpu'];

async function cli(args: string[], cwd: string) {
  const io = captureIo({ cwd });
  const code = await runCli(args, io);
  return { code, out: io.out(), err: io.err() };
}

/** Every file under `dir` with its bytes, to show that nothing changed. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const e of await fsp.readdir(dir, { withFileTypes: true, recursive: true })) {
    const p = path.join(e.parentPath, e.name);
    out[path.relative(dir, p)] = e.isFile() ? (await fsp.readFile(p)).toString('base64') : '(folder)';
  }
  return out;
}

/** A pid no process has now: one that just exited. */
function deadPid(): number {
  return Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout);
}

describe('what --out and --model may be', function () {
  this.timeout(300_000);
  let tmp: string;

  before(async () => {
    await initEngine('cpu');
    assert.equal(registerGradients(), undefined);
    tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'llm-lab-out-'));
    const model = GptModel.create(makeConfig('tiny', { contextLength: 8, embDim: 16, nHeads: 1, nLayers: 1 }), 4);
    await saveModel(path.join(tmp, 'model'), model);
    model.dispose();
  });
  after(async () => {
    await fsp.rm(tmp, { recursive: true, force: true });
  });

  /** A folder holding `files`, then the refusal of `args` (with --out/--model naming it): exit 1, one line, nothing changed. */
  async function refusedIn(name: string, files: Record<string, string>, args: (dir: string) => string[], why: RegExp): Promise<void> {
    const dir = path.join(tmp, name);
    await fsp.mkdir(dir, { recursive: true });
    for (const [f, text] of Object.entries(files)) await fsp.writeFile(path.join(dir, f), text);
    const before = await snapshot(dir);
    const r = await cli(args(dir), tmp);
    assert.equal(r.code, 1, r.err);
    const errors = r.err.split('\n').filter((l) => l.startsWith('llm-lab:'));
    assert.equal(errors.length, 1, r.err);
    assert.match(errors[0], why);
    assert.deepEqual(await snapshot(dir), before, `${args(dir).join(' ')} changed ${dir}`);
  }

  const pretrain = (...more: string[]) => (dir: string) => ['pretrain', '--data', verdict, '--out', dir, '--steps', '2', ...SMALL, ...more];

  it('a new run refuses a folder of other files, naming what is there', async () => {
    await refusedIn('notes', { 'notes.txt': 'mine', 'plan.md': 'also mine' }, pretrain(), /is not empty and is not an LLM Lab run \(it holds notes\.txt, plan\.md\); choose a new or empty folder/);
  });

  it('a new run never truncates a metrics.jsonl or replaces a run.json it did not write', async () => {
    await refusedIn('metrics', { 'metrics.jsonl': '{"my":"measurements"}\n' }, pretrain(), /not an LLM Lab run \(it holds metrics\.jsonl\)/);
    await refusedIn('record', { 'run.json': '{"mine": true}' }, pretrain(), /run\.json is not a valid run record/);
  });

  it('a new run refuses a model folder', async () => {
    const dir = path.join(tmp, 'model-copy');
    await fsp.cp(path.join(tmp, 'model'), dir, { recursive: true });
    await refusedIn('model-copy', {}, pretrain(), /holds a saved model \(config\.json, model\.safetensors\), not a training run, and LLM Lab does not train into a model folder/);
  });

  it('--resume refuses a folder that is not a run, and an empty one, instead of starting there', async () => {
    await refusedIn('notes-resume', { 'notes.txt': 'mine' }, pretrain('--resume'), /is not an LLM Lab run \(it holds notes\.txt\); there is nothing to resume there/);
    await refusedIn('empty-resume', {}, pretrain('--resume'), /There is no run to resume in .*\(the folder is empty\)/);
  });

  it('the cleanup of interrupted checkpoints removes only the leftovers LLM Lab made', async () => {
    const dir = path.join(tmp, 'run');
    const first = await cli(pretrain('--checkpoint-every', '1')(dir), tmp);
    assert.equal(first.code, 0, first.err);
    const ckpts = path.join(dir, 'checkpoints');
    const users = ['.notes.tmp-1', '.keep.old-77-a-b', 'draft.tmp-3', '.step-000001.tmp-x'];
    for (const f of users) await fsp.writeFile(path.join(ckpts, f), 'mine');
    const leftover = `.step-000003.tmp-${deadPid()}-mf2k1a-0`; // what a save killed midway leaves
    await fsp.mkdir(path.join(ckpts, leftover));
    const resumed = await cli(pretrain('--resume', '--steps', '4', '--checkpoint-every', '1')(dir), tmp);
    assert.equal(resumed.code, 0, resumed.err);
    const now = await fsp.readdir(ckpts);
    for (const f of users) assert.ok(now.includes(f), `${f} was deleted`);
    assert.ok(!now.includes(leftover), 'the interrupted save was not cleaned up');
  });

  it('eval and generate refuse a folder that is a model and a run at once', async () => {
    const dir = path.join(tmp, 'both');
    await fsp.cp(path.join(tmp, 'model'), dir, { recursive: true });
    const run = path.join(tmp, 'run-for-both');
    assert.equal((await cli(pretrain()(run), tmp)).code, 0);
    await fsp.cp(path.join(run, 'checkpoints'), path.join(dir, 'checkpoints'), { recursive: true });
    await fsp.cp(path.join(run, 'run.json'), path.join(dir, 'run.json'));
    const why = /holds both a model \(config\.json, model\.safetensors\) and a training run \(run\.json and checkpoints\/\), so which one is meant cannot be told/;
    await refusedIn('both', {}, (d) => ['eval', '--model', d, '--data', verdict, '--backend', 'cpu'], why);
    await refusedIn('both', {}, (d) => ['generate', '--model', d, '--prompt', 'Hello', '--max-new-tokens', '2', '--backend', 'cpu'], why);
    await refusedIn('both', {}, pretrain('--resume'), why);
  });
});
