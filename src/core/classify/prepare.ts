// Everything a classification run needs before its first step, without loading any weights: the base model's
// shape and tokenizer (a preset, a model folder, or the run's own latest checkpoint on resume), the data read,
// checked, balanced, split, tokenized and padded, and the resolved options. Every data error is raised here,
// so a plan (the summary the CLI and the extension show before starting) fails exactly as the run would.
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import type { LlmLabMeta } from '../checkpoint/hfConfig';
import { fromHfConfig } from '../checkpoint/hfConfig';
import { CHECKPOINTS_DIR, CONFIG_FILE, findCheckpoint, isAdapterFolder, listCheckpoints } from '../checkpoint/layout';
import { inheritedFim, modelTokenizer } from '../checkpoint/modelTokenizer';
import type { FimSentinels } from '../data/fim';
import { LlmLabError } from '../errors';
import { readAdapterMeta } from '../lora/files';
import type { GptConfig } from '../model/config';
import { makeConfig } from '../model/config';
import type { Tokenizer } from '../tokenizer';
import { getTokenizer } from '../tokenizer';
import type { BpeModel } from '../tokenizer/bpeModel';
import { TRAINED_TOKENIZER } from '../tokenizer/bpeModel';
import { loadBpeModel } from '../tokenizer/files';
import type { RunRecord } from '../train/runFolder';
import { readRunRecord } from '../train/runFolder';
import type { EncodedRows, SplitRows } from './dataset';
import { encodeTexts, fingerprintRows, padRows, splitRows } from './dataset';
import type { ClassifyOptions, ResolvedClassifyOptions } from './options';
import { classifyRunRule, resolveClassifyOptions } from './options';
import { readClassificationFile } from './read';
import type { ReadData } from './records';

/** The base model as far as planning needs it: shape, tokenizer and where its weights are. */
export interface BaseModel {
  /** The classifier body's shape (tied: a classifier has no language-model head). */
  config: GptConfig;
  tokenizer: Tokenizer;
  /** A trained tokenizer, copied into every checkpoint. */
  bpe?: BpeModel;
  /** The tokenizer name config.json records. */
  tokenizerName: string;
  /** The base's fill-in-the-middle sentinels (config.json's llm_lab.fim), which the classifier's config keeps. */
  fim?: FimSentinels;
  /** The checkpoint folder of the weights; undefined for a preset's fresh weights. */
  dir?: string;
  /** The base's class names when it is itself a classifier (its body is used, with a new head). */
  classifierLabels?: string[];
  /** In words, for the plan. */
  describe: string;
}

async function readConfigOf(dir: string): Promise<{ config: GptConfig; meta: LlmLabMeta }> {
  const file = path.join(dir, CONFIG_FILE);
  let raw: unknown;
  try {
    raw = JSON.parse(await fsp.readFile(file, 'utf8'));
  } catch {
    throw new LlmLabError('bad-checkpoint', `${file} is missing or not valid JSON; point at a model folder with config.json and model.safetensors.`);
  }
  return fromHfConfig(file, raw);
}

/** The base of a folder (run, model, downloaded GPT-2, a classifier); no weights are read. */
export async function baseFromFolder(modelDir: string, dropRate?: number): Promise<BaseModel> {
  const abs = path.resolve(modelDir);
  if (!(await fsp.stat(abs).then((s) => s.isDirectory(), () => false))) {
    throw new LlmLabError('not-found', `Model folder ${abs} does not exist or is not a folder; check the path.`);
  }
  if (await isAdapterFolder(abs)) {
    throw new LlmLabError('bad-argument', `${abs} is a LoRA adapter; merge it into its base first ('llm-lab lora merge'), then fine-tune the merged model.`);
  }
  const dir = await findCheckpoint(abs);
  if (!dir) throw new LlmLabError('bad-checkpoint', `${abs} has no ${CONFIG_FILE} and no training checkpoints; point at a model folder or a run folder.`);
  const { config, meta } = await readConfigOf(dir);
  const body: GptConfig = { ...config, tiedHead: true, ...(dropRate !== undefined ? { dropRate } : {}) };
  const tokenizer = modelTokenizer({ meta, config, dir });
  const bpe = meta.tokenizer === TRAINED_TOKENIZER ? await loadBpeModel(dir) : undefined;
  const what = meta.classifierLabels ? `the body of classifier ${dir} (classes ${meta.classifierLabels.join(', ')}) with a new head` : dir;
  return {
    config: body, tokenizer, bpe, tokenizerName: meta.tokenizer, dir, ...inheritedFim(meta),
    ...(meta.classifierLabels ? { classifierLabels: meta.classifierLabels } : {}), describe: what,
  };
}

/** The classification data of a run: read, split, encoded, padded. */
export interface PreparedData {
  read: ReadData;
  split: SplitRows;
  train: EncodedRows;
  val: EncodedRows;
  test: EncodedRows;
  /** Tokens of the longest training text (before the cap). */
  longest: number;
  /** The padded length: the longest training text, capped at maxLength. */
  length: number;
  stepsPerEpoch: number;
  fingerprint: string;
}

/** Reads and prepares the data by the (resolved) options with the base's tokenizer. */
export async function prepareClassData(o: ResolvedClassifyOptions, tokenizer: Tokenizer, maxFileBytes?: number): Promise<PreparedData> {
  const file = o.dataFile;
  const read = await readClassificationFile(file, {
    maxFileBytes,
    ...(o.format !== 'auto' ? { format: o.format } : {}),
    ...(o.textField !== null ? { textField: o.textField } : {}),
    ...(o.labelField !== null ? { labelField: o.labelField } : {}),
  });
  const split = splitRows(file, read.rows, o);
  const classOf = new Map(split.labels.map((l, i) => [l, i]));
  const enc = (rows: typeof split.train): number[][] => encodeTexts(file, rows, tokenizer);
  const trainIds = enc(split.train);
  const longest = Math.max(...trainIds.map((e) => e.length));
  const length = Math.min(longest, o.maxLength);
  const pad = (rows: typeof split.train, ids: number[][]): EncodedRows => padRows(ids, rows.map((r) => classOf.get(r.label)!), length, tokenizer.eotId);
  const train = pad(split.train, trainIds);
  const val = pad(split.val, enc(split.val));
  const test = pad(split.test, enc(split.test));
  const stepsPerEpoch = Math.floor(train.rows / o.batchSize);
  if (stepsPerEpoch === 0) {
    throw new LlmLabError('bad-data', `${file}: the training split has ${train.rows} example(s), fewer than one batch of ${o.batchSize}; use more data or a smaller batch (--batch).`);
  }
  return { read, split, train, val, test, longest, length, stepsPerEpoch, fingerprint: fingerprintRows([train, val, test], split.labels) };
}

export interface PreparedRun {
  base: BaseModel;
  /** The options as given (defaults filled), steps and labels from the data. */
  given: ResolvedClassifyOptions;
  data: PreparedData;
  /** The run's record and its latest checkpoint's step when resuming one. */
  record?: RunRecord<ResolvedClassifyOptions>;
  latestStep?: number;
}

/**
 * Resolves the options and prepares the data. On resume the run's saved settings stand in for those not given
 * (the base, the split, the fields) and the tokenizer is its latest checkpoint's.
 */
export async function prepareRun(options: Omit<ClassifyOptions, 'outDir'> & { outDir?: string }): Promise<PreparedRun> {
  if (!options.dataFile) throw new LlmLabError('bad-argument', 'Give the labelled data file (dataFile).');
  const dataFile = path.resolve(options.dataFile);
  const outDir = options.outDir ? path.resolve(options.outDir) : undefined;
  let record: RunRecord<ResolvedClassifyOptions> | undefined;
  let latest: string | undefined;
  let latestStep: number | undefined;
  if (options.resume && outDir) {
    const all = await listCheckpoints(path.join(outDir, CHECKPOINTS_DIR));
    const r = all.length > 0 ? await readRunRecord<ResolvedClassifyOptions>(outDir) : undefined;
    if (r && r.kind === 'classify') {
      record = r;
      latest = all[all.length - 1].dir;
      latestStep = all[all.length - 1].step;
    }
  }
  const explicitBase = options.modelDir !== undefined || options.preset !== undefined;
  const saved = record?.options;
  const fromRun = !explicitBase && saved;
  const source = fromRun ? { modelDir: saved.modelDir ?? undefined, preset: saved.preset ?? undefined } : { modelDir: options.modelDir, preset: options.preset };
  let base: BaseModel;
  if (source.modelDir !== undefined && source.preset !== undefined) throw new LlmLabError('bad-argument', 'Give a model folder or a preset as the base, not both.');
  if (source.preset !== undefined) {
    const config = makeConfig(source.preset, { ...(options.model ?? {}), tiedHead: true });
    base = { config, tokenizer: getTokenizer('gpt2'), tokenizerName: 'gpt2', describe: `fresh ${source.preset} weights (seed ${options.seed ?? saved?.seed ?? 123})` };
  } else if (source.modelDir !== undefined) {
    base = await baseFromFolder(source.modelDir, options.model?.dropRate);
  } else {
    throw new LlmLabError('bad-argument', 'Give the base model: a model folder (--model DIR) or a preset (--preset NAME) for fresh weights.');
  }
  if (latest) {
    // The run's own tokenizer and shape: what its checkpoints hold (a LoRA run's: its base's).
    const own = await baseFromFolder((await isAdapterFolder(latest)) ? (await readAdapterMeta(latest)).base.model : latest);
    base = { ...base, tokenizer: own.tokenizer, bpe: own.bpe, tokenizerName: own.tokenizerName, fim: own.fim, ...(fromRun ? { config: own.config } : {}) };
  }
  const given = resolveClassifyOptions({ ...options, ...source } as Omit<ClassifyOptions, 'outDir'>, base.config, dataFile);
  let basis = given;
  if (saved) {
    const rule = classifyRunRule(options);
    basis = { ...given };
    for (const key of Object.keys(saved) as (keyof ResolvedClassifyOptions)[]) {
      if (!rule.given(key) || rule.mutable.includes(key)) (basis as unknown as Record<string, unknown>)[key] = saved[key];
    }
    basis.dataFile = dataFile;
  }
  const data = await prepareClassData(basis, base.tokenizer, options.maxFileBytes);
  given.labels = data.split.labels;
  given.steps = given.epochs * data.stepsPerEpoch;
  if (latestStep !== undefined && options.epochs !== undefined && latestStep > given.steps) {
    throw new LlmLabError(
      'bad-argument',
      `The run in ${outDir} is already at step ${latestStep} (${(latestStep / data.stepsPerEpoch).toFixed(2)} epochs of ${data.stepsPerEpoch} steps), past the ${options.epochs} epoch(s) asked for; give more epochs to train further.`,
    );
  }
  return { base, given, data, ...(record ? { record, latestStep } : {}) };
}
