// Instruction fine-tuning (the book's chapter 7) as a task of the shared training loop (train/trainer.ts):
// batches of instruction records collated as the book's custom_collate_fn, the next-token loss over every
// target that counts, the validation (and training) loss on the first batches of each split, and at the end the
// test split's loss and its generated responses. The whole model trains, or, with LoRA (appendix E), only the
// adapters beside its frozen linear layers. The prompt style is saved with every checkpoint, so asking the
// model later formats prompts the same way; a LoRA run's checkpoints are adapter folders over their base.
import * as path from 'node:path';
import { saveModel } from '../checkpoint';
import { CHECKPOINTS_DIR, listCheckpoints, loadModelFrom, writeModelFiles } from '../checkpoint/modelFiles';
import { inheritedFim } from '../checkpoint/modelTokenizer';
import { tf } from '../engine';
import { LlmLabError } from '../errors';
import type { LoraAdapters } from '../lora/adapters';
import type { LoraBase } from '../lora/training';
import { attachNewAdapters, attachSavedAdapters, describeBase, loraTaskParams, writeAdapterCheckpoint } from '../lora/training';
import { GptModel } from '../model/gpt';
import { formatBytes } from '../model/config';
import { TRAINED_TOKENIZER } from '../tokenizer/bpeModel';
import type { BpeModel } from '../tokenizer/bpeModel';
import { loadBpeModel, writeTokenizerFiles } from '../tokenizer/files';
import type { TokenBatch } from '../train/step';
import { tokenBatchLoss } from '../train/step';
import type { TrainEvent } from '../train/events';
import type { TrainHooks, TrainResult, TrainingTask } from '../train/trainer';
import { requireGradients, runTraining } from '../train/trainer';
import { lockRunFolder } from '../train/runLock';
import { RecordBatches } from './batches';
import type { EncodedExample } from './collate';
import { collateInstructions, encodeExample, IGNORE_INDEX } from './collate';
import type { InstructFinetuneOptions, ResolvedInstructOptions } from './options';
import type { PreparedInstruct } from './plan';
import { prepareInstruct } from './plan';
import { generateResponses, writeResponses } from './responses';

export interface InstructResult extends TrainResult {
  /** test-responses.json, when the responses were generated. */
  responsesFile?: string;
}

/** Mean loss over every counted target of the first `maxBatches` batches (0: all) of examples in order. */
async function meanLoss(model: GptModel, examples: readonly EncodedExample[], o: ResolvedInstructOptions, padId: number, maxBatches: number, signal?: AbortSignal): Promise<number> {
  const B = o.batchSize;
  const limit = maxBatches > 0 ? Math.min(examples.length, maxBatches * B) : examples.length;
  let sum = 0;
  let count = 0;
  for (let i = 0; i < limit; i += B) {
    if (signal?.aborted && count > 0) break;
    const b = collateInstructions(examples.slice(i, Math.min(i + B, limit)), { padId, maxLength: model.config.contextLength, maskPrompt: o.maskPrompt });
    let n = 0;
    for (const t of b.targets) if (t !== IGNORE_INDEX) n++;
    if (n === 0) continue;
    const lossT = tf.tidy(() => model.loss(tf.tensor2d(b.inputs, [b.batchSize, b.seqLen], 'int32'), tf.tensor2d(b.targets, [b.batchSize, b.seqLen], 'int32')));
    sum += (await lossT.data())[0] * n;
    lossT.dispose();
    count += n;
    await new Promise((resolve) => setImmediate(resolve));
  }
  return count > 0 ? sum / count : NaN;
}

interface TaskParts {
  model: GptModel;
  adapters?: LoraAdapters;
  base?: LoraBase;
  bpe?: BpeModel;
  tokenizerName: string;
}

function instructTask(p: PreparedInstruct, parts: TaskParts, result: { responsesFile?: string }): TrainingTask<TokenBatch> {
  const { o, tokenizer } = p;
  const { model, adapters } = parts;
  const padId = tokenizer.eotId;
  const ctx = model.config.contextLength;
  const batches = new RecordBatches(p.train, o.batchSize, o.seed, { padId, maxLength: ctx, maskPrompt: o.maskPrompt });
  const encode = (rs: typeof p.split.val): EncodedExample[] => rs.map((r) => encodeExample(tokenizer, o.promptStyle, r));
  const val = encode(p.split.val);
  const test = encode(p.split.test);
  const { params, trainable } = adapters ? loraTaskParams(model, adapters) : { params: model.params, trainable: new Set(model.params.keys()) };
  const count = (xs: readonly EncodedExample[]): number => xs.reduce((s, e) => s + Math.min(e.ids.length, ctx), 0);
  // The base's fill-in-the-middle sentinels stay in the vocabulary: record them (an adapter's too, for its folder).
  const meta = { promptStyle: o.promptStyle, task: 'instruct', tokenizer: parts.tokenizerName, ...inheritedFim(p.baseMeta) };
  return {
    params,
    trainable,
    batches,
    dataFingerprint: p.dataFingerprint,
    dataSizes: { trainTokens: count(p.train), valTokens: count(val), trainWindows: p.train.length, stepsPerEpoch: p.stepsPerEpoch },
    parameters: p.plan.parameters,
    get tokensPerStep() {
      return batches.lastTokens;
    },
    loss: (batch, from, rows, seed) => tokenBatchLoss(model, batch, o.dropout > 0)(from, rows, seed),
    evaluate:
      val.length > 0
        ? async (signal) => ({
            valLoss: await meanLoss(model, val, o, padId, o.evalBatches, signal),
            metrics: { trainLoss: await meanLoss(model, p.train, o, padId, o.evalBatches, signal) },
          })
        : undefined,
    finish: async (step, emit: (e: TrainEvent) => void, signal) => {
      if (test.length === 0) return;
      emit({ type: 'test', step, metrics: { loss: await meanLoss(model, test, o, padId, 0, signal) } });
      if (!o.responses) return;
      emit({ type: 'responses', step, done: 0, total: test.length });
      const rows = await generateResponses(model, tokenizer, p.split.test, {
        style: o.promptStyle, maxNewTokens: o.maxResponseTokens, signal, onProgress: (done, total) => emit({ type: 'responses', step, done, total }),
      });
      if (!rows) return 'cancelled';
      result.responsesFile = await writeResponses(p.outDir, rows);
      emit({ type: 'responses', step, done: rows.length, total: rows.length, file: result.responsesFile });
    },
    writeModel: async (dir, step) => {
      if (adapters) {
        await writeAdapterCheckpoint(dir, adapters, model, parts.base!, o.lora!, { ...meta, step });
      } else {
        await writeModelFiles(dir, model, { ...meta, step });
      }
      if (parts.bpe && !adapters) await writeTokenizerFiles(dir, parts.bpe);
    },
  };
}

/** The model with the run's dropout (loaded weights keep the rate of their config.json otherwise). */
function withDropout(model: GptModel, dropRate: number): GptModel {
  if (model.config.dropRate === dropRate) return model;
  const out = GptModel.fromTensors({ ...model.config, dropRate }, model.params);
  model.dispose();
  return out;
}

/** The base weights: from the base folder, or a preset's seeded fresh weights. */
async function loadBase(p: PreparedInstruct): Promise<GptModel> {
  const { o } = p;
  if (p.baseDir && (o.modelDir !== undefined || p.start.resumeFrom)) return (await loadModelFrom(p.baseDir)).model;
  return GptModel.create(p.baseConfig, o.seed);
}

/**
 * Fine-tunes a GPT on instruction data in `options.outDir` (see InstructFinetuneOptions for every setting and its
 * default). Resolves when the run has trained its epochs and written the test responses, or is cancelled
 * (status 'cancelled'; `resume` continues it, and regenerates responses that were cut short). Rejects with an
 * LlmLabError for bad options or data, a folder that cannot be used, or a diverged run.
 */
export async function finetuneInstruct(options: InstructFinetuneOptions, hooks: TrainHooks = {}): Promise<InstructResult> {
  requireGradients();
  const p = await prepareInstruct(options);
  const { o, start, plan } = p;
  if (!plan.memory.fits) {
    throw new LlmLabError(
      'out-of-memory',
      `This fine-tuning (${plan.parameters.toLocaleString('en-US')} parameters, ${plan.trainableParameters.toLocaleString('en-US')} trained, examples up to ${plan.maxTokens} tokens, batch ${o.batchSize / o.gradAccumSteps}) needs about ` +
        `${formatBytes(plan.memory.trainingBytes)}; this machine has ${formatBytes(plan.memory.machineBytes)} (LLM Lab plans for at most 80%). Use a smaller batch (or --grad-accum), LoRA, or a smaller model.`,
    );
  }
  const trained = p.baseMeta?.tokenizer === TRAINED_TOKENIZER;
  const bpe = trained && o.modelDir ? await loadBpeModel(o.modelDir) : undefined;
  const parts: TaskParts = { model: undefined as unknown as GptModel, bpe, tokenizerName: trained ? TRAINED_TOKENIZER : p.tokenizer.name };
  // The folder is locked before anything is written into it (a LoRA run's base/ included); runTraining releases
  // the lock, and so does a failure before the run starts. The plan was read without the lock, so check that no
  // other run saved a checkpoint here in between.
  const lock = await lockRunFolder(p.outDir);
  try {
    const latest = (await listCheckpoints(path.join(p.outDir, CHECKPOINTS_DIR))).at(-1);
    if ((latest?.step ?? -1) !== (start.resumeFrom?.step ?? -1)) {
      throw new LlmLabError(
        'busy',
        `${p.outDir} changed while this fine-tuning was being planned: another run saved its checkpoint of step ${latest?.step ?? '?'} there. Start again (with --resume to continue that run).`,
      );
    }
    if (o.lora) {
      const base = await loadBase(p);
      parts.model = base;
      if (!o.modelDir && !start.resumeFrom) await saveModel(p.baseDir!, base, { tokenizer: parts.tokenizerName });
      parts.base = await describeBase(base, p.baseDir!);
      parts.model = withDropout(base, o.dropout);
      parts.adapters = start.resumeFrom
        ? await attachSavedAdapters(start.resumeFrom.dir, parts.model, parts.base, o.lora)
        : attachNewAdapters(parts.model, o.lora, o.seed);
    } else {
      const loaded = start.resumeFrom ? (await loadModelFrom(start.resumeFrom.dir)).model : await loadBase(p);
      parts.model = withDropout(loaded, o.dropout);
    }
    const result: { responsesFile?: string } = {};
    const r = await runTraining(
      instructTask(p, parts, result),
      o,
      { outDir: p.outDir, kind: 'instruct', options: o, resumeFrom: start.resumeFrom, createdAt: start.record?.createdAt, lock },
      hooks,
    );
    return { ...r, ...result };
  } finally {
    parts.model?.dispose(); // also frees the adapters
    await lock.release();
  }
}
