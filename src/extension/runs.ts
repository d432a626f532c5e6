// The runs folder: where training runs live (default `.llm-lab/runs/<name>/` in the workspace). What is
// inside a run (run.json, metrics.jsonl, step checkpoints) is core's business and read through core; the
// extension adds job.json (which files, preset and settings were asked for) so a run can be resumed from the
// editor. A runs folder LLM Lab creates carries its own `.gitignore` so runs never reach a commit; a folder that
// already held the user's files (the workspace root, say) never gets one, since `*` would hide them from git.
// Pure Node: no `vscode`, unit-tested.
import { promises as fs } from 'node:fs';
import type { Dirent } from 'node:fs';
import { basename, isAbsolute, join, relative, resolve } from 'node:path';
import { ADAPTER_WEIGHTS_FILE, checkpointStep, findCheckpoint, isAdapterFolder, isRunnableModel, JOB_FILE, WEIGHTS_FILE } from '../core/checkpoint/layout';
import { LlmLabError } from '../core/errors';
import type { RunJob } from '../protocol/worker';
import { finetuneJob, isFinetuneJob } from '../protocol/worker';
import { ProtocolError } from '../protocol/validate';

/** The extension's record of the job (core's own run.json sits beside it); the name is core's (layout). */
export { JOB_FILE };
const GITIGNORE_TEXT = '# Written by LLM Lab: training runs and checkpoints stay out of version control.\n*\n';

/** Where runs go when llmLab.runsFolder is left empty (package.json's default for it is the same). */
export const DEFAULT_RUNS_FOLDER = '.llm-lab/runs';

/** Absolute runs folder from the setting (relative paths are taken from the workspace root). */
export function resolveRunsFolder(workspaceRoot: string, setting: string): string {
  const s = setting.trim() || DEFAULT_RUNS_FOLDER;
  return isAbsolute(s) ? s : resolve(workspaceRoot, s);
}

/**
 * Where runs are saved, said plainly for a confirmation or the output channel: the path inside the workspace, or,
 * for an llmLab.runsFolder outside it, that they go outside the workspace, to which absolute folder, and which
 * setting put them there (so nobody looks for them in the workspace or expects its .gitignore to cover them).
 */
export function describeRunsFolder(runsFolder: string, workspaceRoot: string): { inside: boolean; text: string } {
  const rel = relative(resolve(workspaceRoot), resolve(runsFolder));
  const inside = !rel.startsWith('..') && !isAbsolute(rel);
  return inside
    ? { inside, text: `The run is saved in the workspace, under ${rel || '.'}.` }
    : { inside, text: `The run is saved OUTSIDE the workspace, in ${resolve(runsFolder)} (the llmLab.runsFolder setting); LLM Lab writes only inside that folder.` };
}

/**
 * Creates the runs folder, and its .gitignore when the folder is LLM Lab's own: made now, or empty. A folder
 * that holds anything else (the workspace root, a source folder) keeps its files visible to git. Fails with a
 * clear message when the folder cannot be written.
 */
export async function ensureRunsFolder(runsFolder: string): Promise<void> {
  try {
    const created = await fs.mkdir(runsFolder, { recursive: true });
    const ours = created !== undefined || (await fs.readdir(runsFolder)).length === 0;
    if (ours) await fs.writeFile(join(runsFolder, '.gitignore'), GITIGNORE_TEXT, { flag: 'wx' });
    const probe = join(runsFolder, `.write-test-${process.pid}`);
    await fs.writeFile(probe, '');
    await fs.rm(probe, { force: true });
  } catch (e) {
    throw new LlmLabError(
      'io',
      `The runs folder ${runsFolder} cannot be written (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}). ` +
        'Point the llmLab.runsFolder setting at a writable folder.',
    );
  }
}

/** Run names like `tiny-20261122-221530`, then `…-2`, `…-3`: the candidates for a run started at `now`. */
function* runNames(preset: string, now: Date): Generator<string> {
  const p = (n: number) => String(n).padStart(2, '0');
  const stamp = `${now.getFullYear()}${p(now.getMonth() + 1)}${p(now.getDate())}-${p(now.getHours())}${p(now.getMinutes())}${p(now.getSeconds())}`;
  const base = `${preset.replace(/[^\w.-]/g, '_')}-${stamp}`;
  for (let i = 0; ; i++) yield i === 0 ? base : `${base}-${i + 1}`;
}

/** A fresh run name, unique in the folder when asked (nothing is written: see reserveRunName to take it). */
export async function newRunName(runsFolder: string, preset: string, now = new Date()): Promise<string> {
  for (const name of runNames(preset, now)) {
    try {
      await fs.access(join(runsFolder, name));
    } catch {
      return name;
    }
  }
  throw new Error('unreachable');
}

/**
 * A fresh run name, reserved by creating its folder in the (existing) runs folder, an atomic step: two windows
 * starting a run in the same second never share a run folder.
 */
export async function reserveRunName(runsFolder: string, preset: string, now = new Date()): Promise<string> {
  for (const name of runNames(preset, now)) {
    try {
      await fs.mkdir(join(runsFolder, name));
      return name;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
  throw new Error('unreachable');
}

export interface RunRecord {
  version: 1;
  name: string;
  createdAt: string;
  /** A pretraining job, or a fine-tuning job (it names its task). */
  job: RunJob;
}

/** Writes job.json atomically (temp file + rename), so a run folder is never half-described. */
export async function writeRunRecord(runDir: string, record: RunRecord): Promise<void> {
  await fs.mkdir(runDir, { recursive: true });
  const tmp = join(runDir, `${JOB_FILE}.tmp-${process.pid}`);
  await fs.writeFile(tmp, JSON.stringify(record, null, 2) + '\n');
  await fs.rename(tmp, join(runDir, JOB_FILE));
}

export async function readRunRecord(runDir: string): Promise<RunRecord> {
  let text: string;
  try {
    text = await fs.readFile(join(runDir, JOB_FILE), 'utf8');
  } catch {
    throw new LlmLabError('not-found', `${runDir} has no ${JOB_FILE}; it is not an LLM Lab run. Pick another run.`);
  }
  try {
    const r = JSON.parse(text) as RunRecord;
    if (r.version !== 1 || typeof r.job !== 'object' || r.job === null) throw new Error('unknown version');
    // A fine-tuning job is checked field by field: its paths and choices go back to the worker on resume.
    if ('task' in r.job) r.job = finetuneJob(r.job, 'job');
    return r;
  } catch (e) {
    if (e instanceof ProtocolError) {
      throw new LlmLabError('bad-checkpoint', `${join(runDir, JOB_FILE)} is damaged (${e.message}). Start a new run.`);
    }
    throw new LlmLabError('bad-checkpoint', `${join(runDir, JOB_FILE)} is damaged (${(e as Error).message}). Start a new run.`);
  }
}

async function realOrResolved(p: string): Promise<string> {
  return fs.realpath(p).catch(() => resolve(p));
}

/** The data files a job reads: a pretraining corpus, or a fine-tuning job's data file. */
export function jobFiles(job: RunJob): string[] {
  return isFinetuneJob(job) ? [job.dataFile] : job.files;
}

/**
 * The files a run's job.json names, re-checked before they are read again (resume, the Data tab): job.json is a
 * plain file that anyone may edit or commit, so each file must still lie inside the workspace once symbolic links
 * are followed. Throws a message naming the first file that does not.
 */
export async function checkJobFiles(record: RunRecord, runDir: string, workspaceRoot: string | undefined): Promise<string[]> {
  const where = join(runDir, JOB_FILE);
  if (!workspaceRoot) throw new LlmLabError('bad-argument', `Open the workspace ${where} belongs to before resuming it.`);
  const root = await realOrResolved(workspaceRoot);
  const files = jobFiles(record.job);
  for (const f of files) {
    const rel = isAbsolute(f) ? relative(root, await realOrResolved(f)) : '..';
    if (rel.startsWith('..') || isAbsolute(rel)) {
      throw new LlmLabError(
        'bad-argument',
        `${where} names ${f}, which is not a file inside the workspace (${workspaceRoot}); LLM Lab trains only on workspace files. Start a new run instead.`,
      );
    }
  }
  return files;
}

/** The model a run folder would load: its latest step checkpoint (core decides), if it saved one. */
export async function latestModel(runDir: string): Promise<string | undefined> {
  // A folder that is a model and a run at once (core refuses to guess) has no model to offer.
  const dir = (await isAdapterFolder(runDir)) ? runDir : await findCheckpoint(runDir).catch(() => undefined);
  return dir && (await isRunnableModel(dir)) ? dir : undefined;
}

export interface RunSummary {
  name: string;
  dir: string;
  record?: RunRecord;
  /** Newest model folder of the run, if it saved one. */
  latestModel?: string;
  modifiedMs: number;
}

/** Runs in the folder, most recently changed first. */
export async function listRuns(runsFolder: string): Promise<RunSummary[]> {
  let entries: Dirent[];
  try {
    entries = await fs.readdir(runsFolder, { withFileTypes: true });
  } catch {
    return [];
  }
  const runs: RunSummary[] = [];
  for (const e of entries) {
    if (!e.isDirectory() || e.name.startsWith('.')) continue;
    const dir = join(runsFolder, e.name);
    const record = await readRunRecord(dir).catch(() => undefined);
    const model = await latestModel(dir);
    if (!record && !model) continue;
    const st = await fs.stat(dir);
    const weights = model && (await isAdapterFolder(model)) ? ADAPTER_WEIGHTS_FILE : WEIGHTS_FILE;
    const modelSt = model ? await fs.stat(join(model, weights)).catch(() => undefined) : undefined;
    runs.push({ name: e.name, dir, record, latestModel: model, modifiedMs: Math.max(st.mtimeMs, modelSt?.mtimeMs ?? 0) });
  }
  return runs.sort((a, b) => b.modifiedMs - a.modifiedMs);
}

/**
 * What a run made, in words, for the model pickers: "classifier (last-block) from gpt2", "instruction-tuned,
 * LoRA adapter on gpt2"; undefined for pretraining. `base` shows a base folder (e.g. relative to the workspace).
 */
export function describeRun(record: RunRecord | undefined, base: (dir: string) => string = (d) => d): string | undefined {
  const job = record?.job;
  if (!job || !isFinetuneJob(job)) return undefined;
  const kind = job.task === 'classify' ? 'classifier' : 'instruction-tuned';
  const from = job.modelDir ? base(job.modelDir) : `fresh ${job.preset} weights`;
  if (job.lora) return `${kind}, LoRA adapter (rank ${job.lora.rank}) on ${from}`;
  return `${kind}${job.task === 'classify' ? ` (${job.trainable ?? 'last-block'})` : ''} from ${from}`;
}

/** The name a model folder goes by: its run's for a run's step checkpoint (`<run>/checkpoints/step-N`), else its own. */
export function modelName(dir: string): string {
  return basename(checkpointStep(dir)?.runDir ?? dir);
}

/** `dir` shown relative to the workspace when inside it. */
export function displayPath(dir: string, workspaceRoot: string | undefined): string {
  if (!workspaceRoot) return dir;
  const rel = relative(workspaceRoot, dir);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : dir;
}
