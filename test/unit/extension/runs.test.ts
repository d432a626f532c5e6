// The runs folder: its own .gitignore, unique run names, atomic run records, finding checkpoints, and a
// clear error when it cannot be written.
import * as assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, symlinkSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LlmLabError } from '../../../src/core/errors';
import type { TrainJob } from '../../../src/protocol/worker';
import { checkJobFiles, describeRun, describeRunsFolder, displayPath, ensureRunsFolder, jobFiles, latestModel, listRuns, modelName, newRunName, readRunRecord, reserveRunName, resolveRunsFolder, writeRunRecord } from '../../../src/extension/runs';

const job: TrainJob = { runDir: '', files: ['/a.txt'], preset: 'tiny', steps: 5, batchSize: 2, learningRate: 1e-3, evalEvery: 1, checkpointEvery: 1, seed: 1, maxFileBytes: 100, resume: false };

function fakeModel(dir: string, mtime: number): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.json'), '{}');
  writeFileSync(join(dir, 'model.safetensors'), 'x');
  utimesSync(join(dir, 'model.safetensors'), mtime, mtime);
}

describe('runs folder', () => {
  let root: string;
  beforeEach(() => (root = mkdtempSync(join(tmpdir(), 'llmlab-runs-'))));
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('resolves the setting against the workspace and shows paths relative to it', () => {
    assert.equal(resolveRunsFolder('/ws', '.llm-lab/runs'), '/ws/.llm-lab/runs');
    assert.equal(resolveRunsFolder('/ws', '/abs/runs'), '/abs/runs');
    assert.equal(resolveRunsFolder('/ws', '  '), '/ws/.llm-lab/runs');
    assert.equal(displayPath('/ws/.llm-lab/runs/a', '/ws'), '.llm-lab/runs/a');
    assert.equal(displayPath('/elsewhere/a', '/ws'), '/elsewhere/a');
  });

  it('creates the folder with a .gitignore that ignores everything, and keeps an existing one', async () => {
    const runs = join(root, '.llm-lab', 'runs');
    await ensureRunsFolder(runs);
    const gi = readFileSync(join(runs, '.gitignore'), 'utf8');
    assert.ok(gi.split('\n').includes('*'));
    writeFileSync(join(runs, '.gitignore'), 'custom\n');
    await ensureRunsFolder(runs);
    assert.equal(readFileSync(join(runs, '.gitignore'), 'utf8'), 'custom\n');
    assert.deepEqual(readdirSync(runs), ['.gitignore'], 'the write probe was left behind');
  });

  it('never writes its .gitignore into a folder that already holds other files, such as the workspace root', async () => {
    writeFileSync(join(root, 'main.py'), 'print(1)\n');
    await ensureRunsFolder(root); // llmLab.runsFolder set to "." or the workspace's own path
    assert.deepEqual(readdirSync(root), ['main.py']);
    const src = join(root, 'src');
    mkdirSync(src);
    writeFileSync(join(src, 'a.ts'), '');
    await ensureRunsFolder(src);
    assert.deepEqual(readdirSync(src), ['a.ts']);
    const empty = join(root, 'empty');
    mkdirSync(empty);
    await ensureRunsFolder(empty);
    assert.deepEqual(readdirSync(empty), ['.gitignore'], 'an empty folder is LLM Lab’s to use');
  });

  it('re-checks a job.json before its files are read again: each must lie inside the workspace, links followed', async () => {
    const ws = join(root, 'ws');
    const elsewhere = join(root, 'elsewhere');
    mkdirSync(join(ws, 'data'), { recursive: true });
    mkdirSync(elsewhere);
    writeFileSync(join(ws, 'data', 'a.txt'), 'text');
    writeFileSync(join(elsewhere, 'id_rsa'), 'secret');
    symlinkSync(join(elsewhere, 'id_rsa'), join(ws, 'data', 'link.txt'));
    const run = join(ws, '.llm-lab', 'runs', 'r');
    const record = (files: string[]) => ({ version: 1 as const, name: 'r', createdAt: 'now', job: { ...job, runDir: run, files } });
    assert.deepEqual(await checkJobFiles(record([join(ws, 'data', 'a.txt')]), run, ws), [join(ws, 'data', 'a.txt')]);
    for (const bad of [join(elsewhere, 'id_rsa'), join(ws, 'data', 'link.txt'), join(ws, '..', 'elsewhere', 'id_rsa'), 'data/a.txt']) {
      await assert.rejects(checkJobFiles(record([join(ws, 'data', 'a.txt'), bad]), run, ws), (e: unknown) => e instanceof LlmLabError && e.message.includes(`names ${bad}, which is not a file inside the workspace`));
    }
    await assert.rejects(checkJobFiles(record([join(ws, 'data', 'a.txt')]), run, undefined), LlmLabError);
  });

  it('says clearly when the folder cannot be written', async function () {
    if (process.getuid?.() === 0) {
      // root ignores permissions; a path under a regular file cannot be created by anyone.
      writeFileSync(join(root, 'file'), '');
      await assert.rejects(ensureRunsFolder(join(root, 'file', 'runs')), (e: unknown) => e instanceof LlmLabError && e.code === 'io' && /llmLab\.runsFolder/.test(e.message));
      return;
    }
    mkdirSync(join(root, 'ro'));
    chmodSync(join(root, 'ro'), 0o500);
    await assert.rejects(ensureRunsFolder(join(root, 'ro', 'runs')), (e: unknown) => e instanceof LlmLabError && e.code === 'io');
  });

  it('says plainly where runs go, above all when llmLab.runsFolder points outside the workspace', () => {
    const ws = join(root, 'ws');
    assert.deepEqual(describeRunsFolder(resolveRunsFolder(ws, ''), ws), { inside: true, text: `The run is saved in the workspace, under ${join('.llm-lab', 'runs')}.` });
    const outside = resolveRunsFolder(ws, '../elsewhere/runs');
    const d = describeRunsFolder(outside, ws);
    assert.equal(d.inside, false);
    assert.equal(d.text, `The run is saved OUTSIDE the workspace, in ${join(root, 'elsewhere', 'runs')} (the llmLab.runsFolder setting); LLM Lab writes only inside that folder.`);
    assert.equal(describeRunsFolder(join(root, 'wsx', 'runs'), ws).inside, false, 'a sibling folder whose name starts like the workspace is outside');
  });

  it('calls a run’s step checkpoint by the run’s name, any other model folder by its own', () => {
    assert.equal(modelName('/ws/.llm-lab/runs/recall/checkpoints/step-000200'), 'recall');
    assert.equal(modelName('/ws/.llm-lab/runs/recall'), 'recall');
    assert.equal(modelName('/home/me/.cache/llm-lab/models/gpt2'), 'gpt2');
    // Only the layout <run>/checkpoints/step-N counts: a folder merely called step-3 keeps its name.
    assert.equal(modelName('/models/step-3'), 'step-3');
  });

  it('names runs by preset and time, never reusing a name', async () => {
    const when = new Date(2026, 10, 22, 9, 5, 7);
    const a = await newRunName(root, 'tiny', when);
    assert.equal(a, 'tiny-20261122-090507');
    assert.ok(!existsSync(join(root, a)), 'asking for a name writes nothing');
    assert.equal(await reserveRunName(root, 'tiny', when), a);
    assert.ok(statSync(join(root, a)).isDirectory(), 'a reserved name has its folder');
    assert.equal(await newRunName(root, 'tiny', when), 'tiny-20261122-090507-2');
    assert.equal(await newRunName(root, 'a/b', when), 'a_b-20261122-090507');
  });

  it('gives two runs started at the same moment different folders', async () => {
    const when = new Date(2026, 10, 22, 9, 5, 8);
    const names = await Promise.all([1, 2, 3, 4].map(() => reserveRunName(root, 'tiny', when)));
    assert.equal(new Set(names).size, 4, `names: ${names.join(', ')}`);
  });

  it('writes and reads the run record, and refuses a damaged one', async () => {
    const dir = join(root, 'r1');
    await writeRunRecord(dir, { version: 1, name: 'r1', createdAt: 'now', job: { ...job, runDir: dir } });
    assert.deepEqual(readdirSync(dir), ['job.json'], 'a temp file was left');
    assert.deepEqual((await readRunRecord(dir)).job, { ...job, runDir: dir });
    writeFileSync(join(dir, 'job.json'), '{"version": 1, "job": ');
    await assert.rejects(readRunRecord(dir), (e: unknown) => e instanceof LlmLabError && e.code === 'bad-checkpoint');
    await assert.rejects(readRunRecord(join(root, 'none')), (e: unknown) => e instanceof LlmLabError && e.code === 'not-found');
  });

  it('records a fine-tuning job with its task, checks it field by field when read, and names its data file for resume', async () => {
    const dir = join(root, 'cls');
    const data = join(root, 'spam.tsv');
    const ft = { task: 'classify' as const, runDir: dir, dataFile: data, preset: 'tiny', trainable: 'last-2', epochs: 3, lora: { rank: 4, alpha: 8 }, resume: false };
    await writeRunRecord(dir, { version: 1, name: 'cls', createdAt: 'now', job: ft });
    const back = await readRunRecord(dir);
    assert.deepEqual(back.job, ft);
    assert.deepEqual(jobFiles(back.job), [data]);
    assert.deepEqual(jobFiles(job), job.files);
    // A hand-edited job.json whose fine-tuning fields are wrong is refused with the field named.
    writeFileSync(join(dir, 'job.json'), JSON.stringify({ version: 1, name: 'cls', createdAt: 'now', job: { ...ft, epochs: 'many' } }));
    await assert.rejects(readRunRecord(dir), (e: unknown) => e instanceof LlmLabError && e.code === 'bad-checkpoint' && /job\.epochs: expected a number/.test(e.message));
    writeFileSync(join(dir, 'job.json'), JSON.stringify({ version: 1, name: 'cls', createdAt: 'now', job: { ...ft, task: 'summarise' } }));
    await assert.rejects(readRunRecord(dir), (e: unknown) => e instanceof LlmLabError && /job\.task: unknown kind/.test(e.message));
  });

  it('describes a fine-tuning run for the model pickers: its task, what trained, and a LoRA adapter’s base', () => {
    const rec = (job: object) => ({ version: 1 as const, name: 'r', createdAt: 'now', job: job as never });
    const base = { runDir: '/r', dataFile: '/d', resume: false };
    assert.equal(describeRun(rec(job)), undefined);
    assert.equal(describeRun(rec({ ...base, task: 'classify', preset: 'tiny' })), 'classifier (last-block) from fresh tiny weights');
    assert.equal(describeRun(rec({ ...base, task: 'classify', modelDir: '/m/gpt2', trainable: 'all' })), 'classifier (all) from /m/gpt2');
    assert.equal(
      describeRun(rec({ ...base, task: 'instruct', modelDir: '/w/.llm-lab/runs/tiny-1', lora: { rank: 8 } }), (d) => d.replace('/w/', '')),
      'instruction-tuned, LoRA adapter (rank 8) on .llm-lab/runs/tiny-1',
    );
  });

  it('takes the highest step as the latest model of a run, not the newest file, and lists runs with it', async () => {
    const run = join(root, 'tiny-1');
    await writeRunRecord(run, { version: 1, name: 'tiny-1', createdAt: 'now', job: { ...job, runDir: run } });
    fakeModel(join(run, 'checkpoints', 'step-2'), 3000); // written later (a copy, a touch) than the higher step
    fakeModel(join(run, 'checkpoints', 'step-4'), 2000);
    mkdirSync(join(run, 'checkpoints', 'broken'));
    writeFileSync(join(run, 'checkpoints', 'broken', 'config.json'), '{}');
    assert.equal(await latestModel(run), join(run, 'checkpoints', 'step-4'));
    mkdirSync(join(root, 'empty-folder'));
    const runs = await listRuns(root);
    assert.deepEqual(runs.map((r) => r.name), ['tiny-1'], 'a folder that is not a run was listed');
    assert.equal(runs[0].latestModel, join(run, 'checkpoints', 'step-4'));
    assert.ok(existsSync(join(run, 'job.json')));
  });
});
