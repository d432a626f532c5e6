// The run folder of a training run (pretraining or a fine-tuning task) and how a run starts or resumes in it:
//   <out>/run.json                       options with defaults filled in, data fingerprint, backend, times
//   <out>/metrics.jsonl                  one JSON line per event (start, step, eval, sample, checkpoint, done)
//   <out>/checkpoints/step-000123/       config.json, model.safetensors, training_state.{safetensors,json}
// loadModel(<out>) loads the latest step folder.
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { writeJsonAtomic } from '../checkpoint/atomic';
import { CHECKPOINTS_DIR, listCheckpoints } from '../checkpoint/modelFiles';
import { LlmLabError } from '../errors';
import { RUN_FILE } from './events';
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

/**
 * Decides how a run of `kind` starts in `outDir`: fresh (no checkpoints there), or resumed from the latest
 * checkpoint (with `resume`). Refuses to start over a folder that has checkpoints unless resuming, a resume of a
 * run of another kind, and a resume whose run-defining settings (see `rule`) differ from run.json.
 */
export async function planRunStart<O extends { steps: number }>(
  outDir: string,
  kind: RunKind,
  resume: boolean,
  given: O,
  rule: RunOptionsRule<O>,
): Promise<RunStart<O>> {
  const checkpoints = await listCheckpoints(path.join(outDir, CHECKPOINTS_DIR));
  const latest = checkpoints[checkpoints.length - 1];
  if (!resume) {
    if (latest) {
      throw new LlmLabError(
        'bad-argument',
        `${outDir} already holds a training run (checkpoint at step ${latest.step}); resume it (--resume) or choose an empty folder.`,
      );
    }
    return { options: given };
  }
  if (!latest) {
    // A folder that does not exist is most likely a mistyped path: say so rather than start a new run there.
    // An existing run folder without a checkpoint (stopped before its first save) starts from step 0.
    const exists = await fsp.stat(outDir).then(
      (st) => st.isDirectory(),
      () => false,
    );
    if (!exists) {
      throw new LlmLabError('not-found', `There is no run to resume at ${outDir}; check the path, or leave out --resume to start a new run there.`);
    }
    return { options: given };
  }
  const record = await readRunRecord<O>(outDir);
  if (!record) {
    throw new LlmLabError('bad-checkpoint', `${path.join(outDir, RUN_FILE)} is missing, so the run cannot resume; start a new run from ${latest.dir} instead.`);
  }
  if ((record.kind ?? 'pretrain') !== kind) {
    throw new LlmLabError(
      'bad-argument',
      `${outDir} holds a ${describeKind(record.kind)} run, not a ${describeKind(kind)} run; resume it with the command that started it, or choose another folder.`,
    );
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
