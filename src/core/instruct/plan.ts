// Everything an instruction fine-tuning run decides before it loads any weights: the options (fresh, or merged
// with the run.json of the run it resumes), the records and their split, the base model's folder and config,
// the tokenizer, the encoded training examples, the steps, the trainable count and the memory it needs. The
// same preparation serves the summary shown before a run starts (planInstructFinetune) and the run itself.
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { totalmem } from 'node:os';
import * as path from 'node:path';
import { CONFIG_FILE, findCheckpoint, fromHfConfig, modelTokenizer } from '../checkpoint';
import type { LlmLabMeta } from '../checkpoint';
import { isAdapterFolder } from '../checkpoint/layout';
import { readTextDocument } from '../data';
import { LlmLabError } from '../errors';
import type { ResolvedLoraOptions } from '../lora/training';
import { loraTrainableCount } from '../lora/training';
import type { GptConfig } from '../model/config';
import { countParameters, estimateMemory, makeConfig } from '../model/config';
import { MEMORY_FRACTION } from '../model/memory';
import type { Tokenizer } from '../tokenizer';
import { getTokenizer } from '../tokenizer';
import type { RunOptionsRule, RunStart } from '../train/runFolder';
import { previewRunStart, readRunRecord } from '../train/runFolder';
import type { EncodedExample } from './collate';
import { encodeExample } from './collate';
import type { InstructFinetuneOptions, ResolvedInstructOptions } from './options';
import { INSTRUCT_RESUME_MUTABLE, resolveInstructOptions, trainFraction } from './options';
import type { InstructionRecord, PromptStyle } from './prompt';
import type { InstructionSplit } from './records';
import { parseInstructionData, splitInstructions } from './records';

/** Where a LoRA run started from a preset keeps the frozen base its adapters name. */
export const RUN_BASE_DIR = 'base';
/** The largest instruction data file read (the book's is 0.4 MB). */
const MAX_DATA_BYTES = 256 * 1024 * 1024;

/** The summary shown before a run starts. */
export interface InstructPlan {
  records: number;
  split: { train: number; val: number; test: number };
  /** Tokens of the longest training example with its end token. */
  maxTokens: number;
  /** Training examples longer than the context (cut to it). */
  truncated: number;
  contextLength: number;
  stepsPerEpoch: number;
  totalSteps: number;
  /** The model's parameters (base only). */
  parameters: number;
  /** Values that train: every parameter, or the LoRA adapters' values. */
  trainableParameters: number;
  lora?: ResolvedLoraOptions;
  memory: { trainingBytes: number; machineBytes: number; fits: boolean };
  promptStyle: PromptStyle;
  /** The base model's folder, or `preset:<name>`. */
  baseModel: string;
  /** Whether the run resumes (and from which step). */
  resume: boolean;
  resumeStep?: number;
}

/** What preparing a run found; the run itself then loads the weights. */
export interface PreparedInstruct {
  outDir: string;
  o: ResolvedInstructOptions;
  start: Omit<RunStart<ResolvedInstructOptions>, 'lock'>;
  split: InstructionSplit;
  records: number;
  dataFingerprint: string;
  /** The base's config and metadata (from its config.json, or the preset). */
  baseConfig: GptConfig;
  baseMeta?: LlmLabMeta;
  /** The folder the base weights come from: the given model's checkpoint, or the run's own base/ (LoRA on a preset). */
  baseDir?: string;
  tokenizer: Tokenizer;
  train: EncodedExample[];
  stepsPerEpoch: number;
  plan: InstructPlan;
}

async function readRecords(o: InstructFinetuneOptions): Promise<readonly InstructionRecord[]> {
  if ((o.dataFile === undefined) === (o.records === undefined)) throw new LlmLabError('bad-argument', 'Give the instruction data as a file or as records (exactly one of them).');
  if (o.records) {
    if (o.records.length === 0) throw new LlmLabError('bad-data', 'There are no instruction records; give at least one {instruction, input, output}.');
    return o.records;
  }
  const file = path.resolve(o.dataFile!);
  const r = await readTextDocument(file, MAX_DATA_BYTES);
  if (typeof r === 'string') {
    const missing = r.includes('ENOENT');
    throw new LlmLabError(missing ? 'not-found' : 'bad-data', missing ? `The instruction data ${file} does not exist; check the path.` : `The instruction data ${file} cannot be used: ${r}.`);
  }
  return parseInstructionData(r.text, file);
}

/** "sha256:<hex>" of the records in order: a resume with other data is refused. */
export function fingerprintRecords(records: readonly InstructionRecord[]): string {
  const h = createHash('sha256');
  for (const r of records) h.update(JSON.stringify([r.instruction, r.input, r.output]) + '\n');
  return `sha256:${h.digest('hex')}`;
}

/** The checkpoint folder a base model folder stands for; adapters are refused (merge them first). */
export async function resolveBaseFolder(dir: string): Promise<string> {
  const abs = path.resolve(dir);
  const st = await fsp.stat(abs).catch(() => undefined);
  if (!st) throw new LlmLabError('not-found', `Base model folder ${abs} does not exist; check the path.`);
  if (!st.isDirectory()) throw new LlmLabError('bad-argument', `Base model ${abs} is a file; give the folder that holds config.json and model.safetensors.`);
  const found = await findCheckpoint(abs);
  if (found && (await isAdapterFolder(found))) {
    throw new LlmLabError('bad-argument', `${found} is a LoRA adapter, not a model; merge it into its base first (llm-lab lora merge) and fine-tune the merged model.`);
  }
  if (!found) throw new LlmLabError('bad-checkpoint', `${abs} has no ${CONFIG_FILE} and no training checkpoints; give a model folder or a run folder as the base.`);
  return found;
}

async function readConfig(dir: string): Promise<{ config: GptConfig; meta: LlmLabMeta }> {
  const file = path.join(dir, CONFIG_FILE);
  let raw: unknown;
  try {
    raw = JSON.parse(await fsp.readFile(file, 'utf8'));
  } catch {
    throw new LlmLabError('bad-checkpoint', `${file} is missing or not valid JSON; give a model folder with config.json and model.safetensors.`);
  }
  return fromHfConfig(file, raw);
}

/** Training memory: the weights, plus gradients and AdamW moments of what trains, plus one micro-batch's activations. */
export function instructMemory(config: GptConfig, trainable: number, microBatch: number, seqLen: number): number {
  const m = estimateMemory({ ...config, contextLength: Math.max(1, Math.min(seqLen, config.contextLength)) }, microBatch);
  return 4 * countParameters(config) + 3 * 4 * trainable + m.activationsBytes;
}

/** Which settings a resume may change, and which the caller set (a resume keeps the run's value of the others). */
function instructRunRule(explicit: InstructFinetuneOptions): RunOptionsRule<ResolvedInstructOptions> {
  const raw = explicit as unknown as Record<string, unknown>;
  return { mutable: INSTRUCT_RESUME_MUTABLE, given: (key) => key !== 'steps' && raw[key] !== undefined };
}

/** Reads, checks and plans everything short of loading weights. */
export async function prepareInstruct(options: InstructFinetuneOptions): Promise<PreparedInstruct> {
  if (!options.outDir) throw new LlmLabError('bad-argument', 'Give an output folder (outDir) for the run.');
  if (options.modelDir !== undefined && options.preset !== undefined) throw new LlmLabError('bad-argument', 'Give the base model as a model folder or a preset, not both.');
  const outDir = path.resolve(options.outDir);
  let explicit: InstructFinetuneOptions = options;
  if (options.resume && options.modelDir === undefined && options.preset === undefined) {
    // A resume may leave the base out: the run's own record names it.
    const rec = await readSavedBase(outDir);
    if (rec) explicit = { ...options, ...rec };
  }
  const modelDir = explicit.modelDir !== undefined ? await resolveBaseFolder(explicit.modelDir) : undefined;
  const given = resolveInstructOptions(explicit, modelDir);
  // Read-only here (this also serves the summary before a run); the loop locks the folder when the run starts.
  const start = await previewRunStart(outDir, 'instruct', options.resume ?? false, given, instructRunRule({ ...explicit, modelDir }));
  const o = start.options;

  const all = await readRecords(options);
  const split = splitInstructions(all, { train: trainFraction(o), test: o.testFraction });
  const baseDir = o.modelDir ?? (o.lora ? path.join(outDir, RUN_BASE_DIR) : undefined);
  let baseConfig: GptConfig;
  let baseMeta: LlmLabMeta | undefined;
  let tokenizer: Tokenizer;
  if (o.modelDir !== undefined) {
    ({ config: baseConfig, meta: baseMeta } = await readConfig(o.modelDir));
    tokenizer = modelTokenizer({ config: baseConfig, meta: baseMeta, dir: o.modelDir });
  } else {
    baseConfig = makeConfig(o.preset!);
    tokenizer = getTokenizer('gpt2');
  }
  const ctx = baseConfig.contextLength;
  const train = split.train.map((r) => encodeExample(tokenizer, o.promptStyle, r));
  const stepsPerEpoch = Math.floor(train.length / o.batchSize);
  if (stepsPerEpoch < 1) {
    throw new LlmLabError('bad-data', `There are ${train.length} training record(s) (of ${all.length}), fewer than one batch of ${o.batchSize}; give more records or a smaller batch size.`);
  }
  o.steps = o.epochs * stepsPerEpoch;
  if (start.resumeFrom && start.resumeFrom.step > o.steps) {
    throw new LlmLabError('bad-argument', `The run in ${outDir} is already at step ${start.resumeFrom.step}, past the ${o.steps} steps of ${o.epochs} epoch(s); give more epochs to train further.`);
  }
  const maxTokens = Math.max(...train.map((e) => e.ids.length + 1));
  const truncated = train.filter((e) => e.ids.length + 1 > ctx).length;
  const parameters = countParameters(baseConfig);
  const trainableParameters = o.lora ? loraTrainableCount(baseConfig, o.lora) : parameters;
  const machineBytes = totalmem();
  const trainingBytes = instructMemory(baseConfig, trainableParameters, o.batchSize / o.gradAccumSteps, maxTokens - 1);
  const plan: InstructPlan = {
    records: all.length,
    split: { train: split.train.length, val: split.val.length, test: split.test.length },
    maxTokens,
    truncated,
    contextLength: ctx,
    stepsPerEpoch,
    totalSteps: o.steps,
    parameters,
    trainableParameters,
    ...(o.lora ? { lora: o.lora } : {}),
    memory: { trainingBytes, machineBytes, fits: trainingBytes <= MEMORY_FRACTION * machineBytes },
    promptStyle: o.promptStyle,
    baseModel: o.modelDir ?? `preset:${o.preset}`,
    resume: start.resumeFrom !== undefined,
    ...(start.resumeFrom ? { resumeStep: start.resumeFrom.step } : {}),
  };
  return {
    outDir, o, start, split, records: all.length, dataFingerprint: fingerprintRecords(all), baseConfig, baseMeta, baseDir, tokenizer, train, stepsPerEpoch, plan,
  };
}

/** The base model a run's run.json names (for a resume that leaves it out). */
async function readSavedBase(outDir: string): Promise<Pick<InstructFinetuneOptions, 'modelDir' | 'preset'> | undefined> {
  const rec = await readRunRecord<Partial<ResolvedInstructOptions>>(outDir).catch(() => undefined);
  if (!rec) return undefined;
  if (typeof rec.options.modelDir === 'string') return { modelDir: rec.options.modelDir };
  if (typeof rec.options.preset === 'string') return { preset: rec.options.preset };
  return undefined;
}

/** The summary of a run before it starts (records, split, longest example, steps, trainable values, memory). */
export async function planInstructFinetune(options: InstructFinetuneOptions): Promise<InstructPlan> {
  return (await prepareInstruct(options)).plan;
}
