// Classification fine-tuning (the book's chapter 6) as a task of the shared training loop: batches of padded
// labelled texts in a seeded order, the cross-entropy of the class logits read at each text's last real token,
// which parameters train, validation and training loss and accuracy at each evaluation, and the test split's
// loss, accuracy and confusion matrix at the end. The loop does the rest (AdamW, checkpoints, exact resume,
// cancel). A plan gives the summary to show before starting. With LoRA (lora.ts) the base stays frozen, the
// adapters (and a head that is not adapted) train, and each checkpoint is an adapter folder over the base.
import * as path from 'node:path';
import { loadModelFrom, saveModel } from '../checkpoint/modelFiles';
import type { tf } from '../engine';
import { LlmLabError } from '../errors';
import type { LoraAdapters, LoraBase } from '../lora';
import { attachNewAdapters, describeBase, readAdapterMeta } from '../lora';
import type { MemoryEstimate } from '../model/config';
import { estimateMemory } from '../model/config';
import { GptModel, parameterShapes } from '../model/gpt';
import { assertTrainingFits } from '../model/memory';
import { Rng } from '../rng';
import { writeTokenizerFiles } from '../tokenizer/files';
import { TRAINED_TOKENIZER } from '../tokenizer/bpeModel';
import { planRunStart, previewRunStart } from '../train/runFolder';
import type { BatchSource, TrainHooks, TrainResult, TrainingTask } from '../train/trainer';
import { requireGradients, runTraining } from '../train/trainer';
import type { EncodedRows } from './dataset';
import { scoreRows } from './evaluate';
import { loadClassifierWeights, writeClassifierFiles } from './files';
import type { ClassBatch } from './model';
import { Classifier, countTrainable, SCORE_WEIGHT } from './model';
import { classifierHead, classifierLoraCount, classifierLoraParams, loadClassifierBody, readClassifierAdapter, writeClassifierAdapter } from './lora';
import type { ClassifyOptions, ResolvedClassifyOptions } from './options';
import { classifyRunRule } from './options';
import type { BaseModel, PreparedData } from './prepare';
import { prepareRun } from './prepare';

/** Training rows in a seeded order that changes every epoch; partial batches are dropped (as the book's loader). */
export class RowSampler implements BatchSource<ClassBatch> {
  private epoch = 0;
  private pos = 0;
  private order: Int32Array;

  constructor(
    private readonly rows: EncodedRows,
    private readonly batchSize: number,
    private readonly seed: number,
  ) {
    this.order = this.orderOf(0);
  }

  private orderOf(epoch: number): Int32Array {
    const a = Int32Array.from({ length: this.rows.rows }, (_, i) => i);
    const rng = new Rng(this.seed * 7919 + epoch);
    for (let i = a.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [a[i], a[j]] = [a[j], a[i]];
    }
    return a;
  }

  next(): ClassBatch {
    const B = this.batchSize;
    const T = this.rows.length;
    if (this.pos + B > this.order.length) {
      this.epoch++;
      this.pos = 0;
      this.order = this.orderOf(this.epoch);
    }
    const ids = new Int32Array(B * T);
    const lengths = new Int32Array(B);
    const targets = new Int32Array(B);
    for (let b = 0; b < B; b++) {
      const r = this.order[this.pos + b];
      ids.set(this.rows.ids.subarray(r * T, (r + 1) * T), b * T);
      lengths[b] = this.rows.lengths[r];
      targets[b] = this.rows.targets[r];
    }
    this.pos += B;
    return { ids, lengths, targets, batchSize: B, seqLen: T };
  }

  getState(): { epoch: number; pos: number } {
    return { epoch: this.epoch, pos: this.pos };
  }

  setState(s: unknown): void {
    const st = s as { epoch?: unknown; pos?: unknown };
    if (typeof st?.epoch !== 'number' || typeof st.pos !== 'number') throw new LlmLabError('bad-checkpoint', 'The saved batch position is not a classification run\'s; resume from an earlier checkpoint or start a new run.');
    this.epoch = st.epoch;
    this.pos = st.pos;
    this.order = this.orderOf(this.epoch);
  }
}

/** What a run will do, for the summary shown before it starts. */
export interface ClassifierPlan {
  file: string;
  format: string;
  header: boolean;
  textColumn: string;
  labelColumn: string;
  labels: string[];
  rows: number;
  perClass: Record<string, number>;
  /** Per class after balancing (equal to perClass without --balance). */
  perClassBalanced: Record<string, number>;
  balanced: boolean;
  split: { train: number; val: number; test: number };
  /** Tokens of the longest training text, and the padded length (capped at maxLength). */
  longest: number;
  maxLength: number;
  /** Texts (any split) cut to maxLength. */
  truncated: number;
  stepsPerEpoch: number;
  epochs: number;
  steps: number;
  parameters: number;
  trainableParameters: number;
  /** The trainable choice, or 'lora' (options.lora says which adapters). */
  trainable: string;
  memory: MemoryEstimate;
  base: string;
  options: ResolvedClassifyOptions;
}

/**
 * Memory of training: every weight, gradients and AdamW moments for the trained ones only, the activations of one
 * micro-batch of padded length T (the language-model logits of the general estimate left out: a classifier has K).
 */
function classifierMemory(o: ResolvedClassifyOptions, T: number, trainable: number): MemoryEstimate {
  const B = o.batchSize / o.gradAccumSteps;
  const e = estimateMemory({ ...o.model, contextLength: T }, B);
  const weightsBytes = e.weightsBytes + 4 * o.labels.length * o.model.embDim;
  const activationsBytes = Math.max(0, e.activationsBytes - 4 * 3 * B * T * o.model.vocabSize) + 4 * 3 * B * o.labels.length;
  const gradientsBytes = 4 * trainable;
  const optimizerBytes = 8 * trainable;
  return { weightsBytes, gradientsBytes, optimizerBytes, activationsBytes, trainingBytes: weightsBytes + gradientsBytes + optimizerBytes + activationsBytes, inferenceBytes: e.inferenceBytes };
}

/** Parameter sizes of a classifier body of `config` with `classes` outputs. */
function sizesOf(o: ResolvedClassifyOptions): Map<string, number> {
  const sizes = new Map<string, number>();
  for (const [name, shape] of parameterShapes(o.model)) sizes.set(name, shape.reduce((a, b) => a * b, 1));
  sizes.set(SCORE_WEIGHT, o.labels.length * o.model.embDim);
  return sizes;
}

/** Folder of a LoRA run from a preset that keeps the frozen base weights its adapters need. */
export const RUN_BASE_DIR = 'base';

/** Values a run trains: LoRA's adapters (and a head that is not adapted), or the parameters `trainable` names. */
function trainedCount(o: ResolvedClassifyOptions, sizes: Map<string, number>): number {
  return o.lora ? classifierLoraCount(o.model, o.lora, o.labels.length) : countTrainable(sizes, o.model.nLayers, o.trainable);
}

function planOf(base: BaseModel, o: ResolvedClassifyOptions, d: PreparedData): ClassifierPlan {
  const sizes = sizesOf(o);
  const trained = trainedCount(o, sizes);
  return {
    file: o.dataFile, format: d.read.format, header: d.read.header, textColumn: d.read.textColumn, labelColumn: d.read.labelColumn,
    labels: d.split.labels, rows: d.read.rows.length, perClass: d.split.perClass, perClassBalanced: d.split.perClassBalanced, balanced: o.balance,
    split: { train: d.train.rows, val: d.val.rows, test: d.test.rows },
    longest: d.longest, maxLength: d.length, truncated: d.train.truncated + d.val.truncated + d.test.truncated,
    stepsPerEpoch: d.stepsPerEpoch, epochs: o.steps / d.stepsPerEpoch, steps: o.steps,
    parameters: [...sizes.values()].reduce((a, b) => a + b, 0), trainableParameters: trained, trainable: o.lora ? 'lora' : o.trainable,
    memory: classifierMemory(o, d.length, trained),
    base: base.describe, options: o,
  };
}

/**
 * The summary of a run before it starts (reads and checks the data and the base model's config, no weights):
 * every data error a run would raise is raised here. With resume and an outDir holding a run, its settings.
 */
export async function planClassifier(options: Omit<ClassifyOptions, 'outDir'> & { outDir?: string }): Promise<ClassifierPlan> {
  const { base, given, data, record } = await prepareRun(options);
  let o = given;
  if (record) o = (await previewRunStart(path.resolve(options.outDir!), 'classify', true, given, classifyRunRule(options))).options;
  return planOf(base, o, data);
}

/** A finished run's test measures. */
export interface ClassifierTest {
  loss: number;
  accuracy: number;
  confusion: { labels: string[]; counts: number[][] };
}

export type ClassifierResult = TrainResult & { labels: string[]; test?: ClassifierTest };

/** A classifier over the base's weights (or a preset's fresh ones) with a new head. */
async function freshClassifier(base: BaseModel, o: ResolvedClassifyOptions): Promise<Classifier> {
  if (!base.dir) return Classifier.withNewHead(GptModel.create(o.model, o.seed), o.labels, o.seed);
  const loaded = await loadModelFrom(base.dir);
  let body = loaded.model;
  if (!body.config.tiedHead || body.config.dropRate !== o.model.dropRate) {
    // A classifier has no language-model head: keep the body's tensors under a tied config.
    const tensors = new Map<string, tf.Tensor>([...body.params].filter(([n]) => n !== 'lm_head.weight'));
    body = GptModel.fromTensors(o.model, tensors);
    loaded.model.dispose();
  }
  return Classifier.withNewHead(body, o.labels, o.seed);
}

/** A LoRA run's adapters and the base they sit on. */
interface LoraParts {
  adapters: LoraAdapters;
  base: LoraBase;
}

/**
 * A LoRA run's classifier: the frozen base (a preset's fresh weights are saved to <out>/base first, as the adapters
 * need them), and new adapters and head, or those of the checkpoint a resume starts from (the base checked).
 */
async function loraClassifier(base: BaseModel, o: ResolvedClassifyOptions, outDir: string, resumeFrom?: { dir: string }): Promise<{ c: Classifier; lora: LoraParts }> {
  const baseDir = base.dir ?? path.join(outDir, RUN_BASE_DIR);
  let body: GptModel;
  if (base.dir || resumeFrom) {
    body = (await loadClassifierBody(baseDir, o.model)).model;
  } else {
    body = GptModel.create(o.model, o.seed);
    await saveModel(baseDir, body, { tokenizer: base.tokenizerName });
  }
  try {
    const loraBase = await describeBase(body, baseDir);
    if (!resumeFrom) {
      const c = Classifier.withNewHead(body, o.labels, o.seed);
      return { c, lora: { adapters: attachNewAdapters(body, o.lora!, o.seed, classifierHead(o.labels.length)), base: loraBase } };
    }
    const meta = await readAdapterMeta(resumeFrom.dir);
    if (meta.base.fingerprint !== loraBase.fingerprint) {
      throw new LlmLabError('bad-checkpoint', `The adapters in ${resumeFrom.dir} were trained on other base weights than those in ${baseDir}; resume with the run's base model (${meta.base.model}).`);
    }
    const r = await readClassifierAdapter(resumeFrom.dir, meta, body);
    if (r.info.labels.join('\n') !== o.labels.join('\n')) {
      r.classifier.score.dispose();
      throw new LlmLabError('bad-checkpoint', `${resumeFrom.dir} has classes ${r.info.labels.join(', ')} but the run's are ${o.labels.join(', ')}; resume from another checkpoint or start a new run.`);
    }
    return { c: r.classifier, lora: { adapters: r.adapters, base: loraBase } };
  } catch (e) {
    body.dispose();
    throw e;
  }
}

/** The classification task for the shared loop. */
function classifyTask(c: Classifier, o: ResolvedClassifyOptions, d: PreparedData, base: BaseModel, test: { result?: ClassifierTest }, lora?: LoraParts): TrainingTask<ClassBatch> {
  const sampler = new RowSampler(d.train, o.batchSize, o.seed);
  const { params, trainable } = lora && o.lora ? classifierLoraParams(c, lora.adapters, o.lora) : { params: c.params, trainable: c.trainableNames(o.trainable) };
  let trainableParameters = 0;
  for (const n of trainable) trainableParameters += params.get(n)!.size;
  const training = o.model.dropRate > 0;
  const B = o.batchSize;
  return {
    params,
    trainable,
    batches: sampler,
    dataFingerprint: d.fingerprint,
    dataSizes: { trainTokens: d.train.tokens, valTokens: d.val.tokens, trainWindows: d.train.rows, stepsPerEpoch: d.stepsPerEpoch },
    parameters: [...c.params.values()].reduce((a, v) => a + v.size, 0),
    tokensPerStep: B * d.length,
    loss: (batch, from, rows, seed) => c.loss(batch, from, rows, { training, seed }),
    evaluate:
      d.val.rows > 0
        ? async (signal) => {
            const val = await scoreRows(c, d.val, B, o.evalBatches, signal);
            const tr = await scoreRows(c, d.train, B, o.trainEvalBatches, signal);
            return { valLoss: val.loss, metrics: { valAccuracy: val.accuracy, trainLoss: tr.loss, trainAccuracy: tr.accuracy } };
          }
        : undefined,
    finish: async (step, emit, signal) => {
      if (d.test.rows === 0) return;
      const s = await scoreRows(c, d.test, B, 0, signal);
      if (signal?.aborted) return; // the run is saved; a partial test would mislead
      test.result = { loss: s.loss, accuracy: s.accuracy, confusion: { labels: [...o.labels], counts: s.confusion } };
      emit({ type: 'test', step, metrics: { loss: s.loss, accuracy: s.accuracy }, confusion: test.result.confusion });
    },
    writeModel: async (dir, step) => {
      if (lora && o.lora) {
        const head = o.lora.targets.includes('head') ? 'adapter' : 'whole';
        await writeClassifierAdapter(dir, c, lora.adapters, lora.base, o.lora, { labels: [...o.labels], head, trainableParameters, maxLength: d.length }, {
          step, tokenizer: base.bpe ? TRAINED_TOKENIZER : base.tokenizerName,
        });
        return;
      }
      await writeClassifierFiles(dir, c, base.tokenizer.eotId, { trainable: o.trainable, trainableParameters, maxLength: d.length }, {
        step, tokenizer: base.bpe ? TRAINED_TOKENIZER : base.tokenizerName, ...(base.fim ? { fim: { ...base.fim } } : {}),
      });
      if (base.bpe) await writeTokenizerFiles(dir, base.bpe);
    },
  };
}

/**
 * Fine-tunes a classifier in `options.outDir` (see ClassifyOptions for every setting and its default). Resolves
 * when the run has made its epochs or is cancelled; rejects with an LlmLabError for bad options or data (before
 * anything trains), a run folder that cannot be used, or a diverged run.
 */
export async function finetuneClassifier(options: ClassifyOptions, hooks: TrainHooks = {}): Promise<ClassifierResult> {
  if (!options.outDir) throw new LlmLabError('bad-argument', 'Give an output folder (outDir) for the run.');
  requireGradients();
  const outDir = path.resolve(options.outDir);
  const { base, given, data } = await prepareRun({ ...options, outDir });
  const start = await planRunStart(outDir, 'classify', options.resume === true, given, classifyRunRule(options));
  // The folder is locked from here; runTraining releases it, and so does a failure before the run starts.
  try {
    const o = start.options;
    assertTrainingFits({ ...o.model, contextLength: data.length }, o.batchSize / o.gradAccumSteps, 'of these fine-tuning settings');
    let c: Classifier;
    let lora: LoraParts | undefined;
    if (o.lora) {
      ({ c, lora } = await loraClassifier(base, o, outDir, start.resumeFrom));
    } else if (start.resumeFrom) {
      const loaded = await loadClassifierWeights(start.resumeFrom.dir);
      c = loaded.classifier;
      if (loaded.labels.join('\n') !== o.labels.join('\n')) {
        c.dispose();
        throw new LlmLabError('bad-checkpoint', `${start.resumeFrom.dir} has classes ${loaded.labels.join(', ')} but the run's are ${o.labels.join(', ')}; resume from another checkpoint or start a new run.`);
      }
    } else {
      c = await freshClassifier(base, o);
    }
    const test: { result?: ClassifierTest } = {};
    try {
      const r = await runTraining(
        classifyTask(c, o, data, base, test, lora),
        o,
        { outDir, kind: 'classify', options: o, resumeFrom: start.resumeFrom, createdAt: start.record?.createdAt, lock: start.lock },
        hooks,
      );
      return { ...r, labels: [...o.labels], ...(test.result ? { test: test.result } : {}) };
    } finally {
      c.dispose();
    }
  } finally {
    await start.lock.release();
  }
}
