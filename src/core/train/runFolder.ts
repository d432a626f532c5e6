// The run folder of a training run (pretraining or a fine-tuning task) and how a run starts or resumes in it:
//   <out>/run.json                       options with defaults filled in, data fingerprint, backend, times
//   <out>/metrics.jsonl                  one JSON line per event (start, step, eval, sample, checkpoint, done)
//   <out>/checkpoints/step-000123/       config.json, model.safetensors, training_state.{safetensors,json}
//   <out>/run.lock                       while a process trains it (see runLock)
// loadModel(<out>) loads the latest step folder. What a folder is (run, model, other) is layout.ts's rule.
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { writeJsonAtomic } from '../checkpoint/atomic';
import type { FolderInfo } from '../checkpoint/layout';
import { ambiguousFolderError, describeFolder, listForMessage, RUN_FILE } from '../checkpoint/layout';
import { LlmLabError } from '../errors';
import type { RunLock } from './runLock';
import { lockRunFolder } from './runLock';
import type { PretrainOptions, ResolvedPretrainOptions } from './options';
import { RESUME_MUTABLE } from './options';

export const RUN_FORMAT_VERSION = 1;

/** What a run trains: 'pretrain' or a fine-tuning task. */
export type RunKind = 'pretrain' | 'classify' | 'instruct' | (string & {});

/** Contents of run.json; `options` are the task's resolved options (ResolvedPretrainOptions for 'pretrain'). */
export interface RunRecord<O = ResolvedPretrainOptions> {
  formatVersion: number;
  kind: RunKind;
  options: O;
  dataFingerprint: string;
  backend: string;
  createdAt: string;
  updatedAt: string;
}

export async function readRunRecord<O = ResolvedPretrainOptions>(outDir: string): Promise<RunRecord<O> | undefined> {
  const file = path.join(outDir, RUN_FILE);
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const r = JSON.parse(text) as RunRecord<O>;
    if (!r || typeof r.options !== 'object') throw new Error('no options');
    return r;
  } catch {
    throw new LlmLabError('bad-checkpoint', `${file} is not a valid run record; restore it or start a new run in another folder.`);
  }
}

export async function writeRunRecord<O>(outDir: string, r: RunRecord<O>): Promise<void> {
  await writeJsonAtomic(path.join(outDir, RUN_FILE), r);
}

/** How a task's resolved options take part in starting or resuming a run. */
export interface RunOptionsRule<O> {
  /**
   * Settings a resumed run may change (e.g. steps, evaluation and checkpoint cadence); every other one decides the
   * model, the data order or the optimizer's path and must match the run's run.json.
   */
  mutable: readonly (keyof O)[];
  /** Whether the caller set `key` itself; a setting left out keeps the run's saved value on resume. */
  given(key: keyof O): boolean;
}

export interface RunStart<O = ResolvedPretrainOptions> {
  options: O;
  /** The step folder to resume from, when resuming. */
  resumeFrom?: { step: number; dir: string };
  record?: RunRecord<O>;
  /** The run folder's lock, held by this process from planRunStart until runTraining ends (or release()). */
  lock: RunLock;
}

/** Names of the run-defining settings the caller gave with a value other than the run's saved one. */
export function resumeConflicts<O extends object>(saved: O, given: O, rule: RunOptionsRule<O>): (keyof O)[] {
  const out: (keyof O)[] = [];
  for (const key of Object.keys(saved) as (keyof O)[]) {
    if (rule.mutable.includes(key) || !rule.given(key)) continue;
    if (JSON.stringify(saved[key]) !== JSON.stringify(given[key])) out.push(key);
  }
  return out;
}

/** On resume: the saved options, with the settings a resume may change taken from the caller where given. */
export function mergeForResume<O extends object>(saved: O, given: O, rule: RunOptionsRule<O>): O {
  const merged = { ...saved };
  for (const key of rule.mutable) if (rule.given(key)) merged[key] = given[key];
  return merged;
}

/** The rule of a pretraining run: the model is given by `model` or `preset`. */
export function pretrainRunRule(explicit: PretrainOptions): RunOptionsRule<ResolvedPretrainOptions> {
  const raw = explicit as unknown as Record<string, unknown>;
  return {
    mutable: RESUME_MUTABLE,
    given: (key) => (key === 'model' ? (explicit.model ?? explicit.preset) : raw[key]) !== undefined,
  };
}

/** Why a folder cannot take a new run or be resumed, for the kinds that never can; undefined for the others. */
function unusableFolder(outDir: string, info: FolderInfo, resume: boolean): LlmLabError | undefined {
  const what = resume ? 'so there is nothing to resume there; check the path' : 'choose a new or empty folder for the run';
  switch (info.kind) {
    case 'file':
      return new LlmLabError('bad-argument', `${outDir} is a file, not a folder; ${resume ? 'give the run folder to resume' : 'choose a new or empty folder for the run'}.`);
    case 'model':
      return new LlmLabError(
        'bad-argument',
        `${outDir} holds a saved model (${info.modelFiles.join(', ')}), not a training run, and LLM Lab does not train into a model folder; ${what}.`,
      );
    case 'adapter':
      return new LlmLabError('bad-argument', `${outDir} holds a LoRA adapter (${info.modelFiles.join(', ')}), not a training run; ${what}.`);
    case 'ambiguous':
      return ambiguousFolderError(outDir, info);
    case 'other':
      return new LlmLabError(
        'bad-argument',
        `${outDir} is not empty and is not an LLM Lab run (it holds ${listForMessage(info.entries)}); ${resume ? 'there is nothing to resume there; check the path' : 'choose a new or empty folder for the run, so that nothing in it is overwritten'}.`,
      );
    default:
      return undefined;
  }
}

/**
 * Decides how a run of `kind` starts in `outDir`, and locks the folder for this process (see runLock): the
 * returned `lock` is released by runTraining when the run ends; a caller that fails before runTraining releases
 * it. A fresh start takes a folder that is new, empty, or holds only what the editor wrote for this run
 * (job.json); it refuses a run (resume it instead), a model or adapter folder and a folder with other files in
 * it, so no user file is ever overwritten. A resume continues from the latest checkpoint (from step 0 for a run
 * stopped before its first one); it refuses a folder that is not a run, a run of another kind, and run-defining
 * settings (see `rule`) that differ from run.json. A folder another process trains is refused ('busy').
 */
export async function planRunStart<O extends { steps: number }>(
  outDir: string,
  kind: RunKind,
  resume: boolean,
  given: O,
  rule: RunOptionsRule<O>,
): Promise<RunStart<O>> {
  // Refuse what can never be used before creating anything (the lock creates the folder).
  const before = await describeFolder(outDir);
  const early = unusableFolder(outDir, before, resume);
  if (early) throw early;
  if (resume && before.kind === 'missing') {
    throw new LlmLabError('not-found', `There is no run to resume at ${outDir}; check the path, or leave out --resume to start a new run there.`);
  }
  const lock = await lockRunFolder(outDir);
  try {
    return { ...(await planLocked(outDir, kind, resume, given, rule)), lock };
  } catch (e) {
    await lock.release();
    throw e;
  }
}

/**
 * What planRunStart would decide, without locking the folder: for a summary shown before a run is started (the
 * settings a resume would keep). Only reads.
 */
export async function previewRunStart<O extends { steps: number }>(
  outDir: string,
  kind: RunKind,
  resume: boolean,
  given: O,
  rule: RunOptionsRule<O>,
): Promise<Omit<RunStart<O>, 'lock'>> {
  if (resume && (await describeFolder(outDir)).kind === 'missing') {
    throw new LlmLabError('not-found', `There is no run to resume at ${outDir}; check the path, or leave out --resume to start a new run there.`);
  }
  return planLocked(outDir, kind, resume, given, rule);
}

/** planRunStart's decision, made while holding the folder's lock. */
async function planLocked<O extends { steps: number }>(outDir: string, kind: RunKind, resume: boolean, given: O, rule: RunOptionsRule<O>): Promise<Omit<RunStart<O>, 'lock'>> {
  const info = await describeFolder(outDir);
  const unusable = unusableFolder(outDir, info, resume);
  if (unusable) throw unusable;
  const latest = info.checkpoints[info.checkpoints.length - 1];
  if (!resume) {
    if (latest) {
      throw new LlmLabError(
        'bad-argument',
        `${outDir} already holds a training run (checkpoint at step ${latest.step}); resume it (--resume) or choose an empty folder.`,
      );
    }
    if (info.kind === 'run') {
      await readRunRecord(outDir); // a run.json LLM Lab did not write is named as such
      throw new LlmLabError(
        'bad-argument',
        `${outDir} already holds a training run that stopped before its first checkpoint; resume it (--resume) to train it again from step 0, or choose an empty folder.`,
      );
    }
    return { options: given };
  }
  if (info.kind === 'empty') {
    throw new LlmLabError('not-found', `There is no run to resume in ${outDir} (the folder is empty); leave out --resume to start a new run there.`);
  }
  const record = info.hasRecord ? await readRunRecord<O>(outDir) : undefined;
  if (record && (record.kind ?? 'pretrain') !== kind) {
    throw new LlmLabError(
      'bad-argument',
      `${outDir} holds a ${describeKind(record.kind)} run, not a ${describeKind(kind)} run; resume it with the command that started it, or choose another folder.`,
    );
  }
  // A run stopped before its first checkpoint (or one the editor set up but never started) starts from step 0.
  if (!latest) return record ? { options: given, record } : { options: given };
  if (!record) {
    throw new LlmLabError('bad-checkpoint', `${path.join(outDir, RUN_FILE)} is missing, so the run cannot resume; start a new run from ${latest.dir} instead.`);
  }
  const conflicts = resumeConflicts(record.options, given, rule);
  if (conflicts.length > 0) {
    const list = conflicts.map((k) => `${String(k)} (run: ${JSON.stringify(record.options[k])}, now: ${JSON.stringify(given[k])})`).join(', ');
    throw new LlmLabError(
      'bad-argument',
      `Cannot resume ${outDir} with different settings: ${list}. Leave them out to keep the run's values, or start a new run.`,
    );
  }
  const options = mergeForResume(record.options, given, rule);
  if (latest.step > options.steps) {
    throw new LlmLabError(
      'bad-argument',
      `The run in ${outDir} is already at step ${latest.step}, past the ${options.steps} steps asked for; give more steps (over ${latest.step}) to train further.`,
    );
  }
  return { options, resumeFrom: latest, record };
}

/** A run kind as words: 'pretrain' → 'pretraining', 'classify' → 'classification fine-tuning'. */
function describeKind(kind: RunKind | undefined): string {
  if (kind === undefined || kind === 'pretrain') return 'pretraining';
  if (kind === 'classify') return 'classification fine-tuning';
  if (kind === 'instruct') return 'instruction fine-tuning';
  return `'${kind}'`;
}
