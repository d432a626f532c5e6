// `llm-lab pretrain`: trains a GPT from scratch on text files into a run folder, with a progress bar, and
// resumes a run from its last checkpoint. Ctrl-C stops cleanly with a checkpoint.
import * as path from 'node:path';
import { bool, choice, int, list, num, required, str } from '../args';
import type { FlagValues, OptionSpecs } from '../args';
import type { Command } from '../command';
import { loadCorpus } from '../../core/data';
import { LlmLabError } from '../../core/errors';
import type { GptConfig } from '../../core/model/config';
import { PRESET_NAMES } from '../../core/model/config';
import type { PretrainOptions } from '../../core/train';
import { PRETRAIN_DEFAULTS, pretrain } from '../../core/train';
import type { CliIo } from '../io';
import { println } from '../io';
import { duration, thousands } from '../format';
import { BACKEND_OPTION, MAX_FILE_HINT, maxFileBytes, maxFileOption, startEngine } from './shared';
import { trainLoopFromFlags, withFlagNames } from './loopFlags';
import { TrainView } from './trainView';

const d = PRETRAIN_DEFAULTS;

/** Flags of the training settings (shared with `demo`). */
export const TRAINING_OPTIONS: OptionSpecs = {
  preset: { type: 'string', value: 'NAME', help: `Model preset: ${PRESET_NAMES.join(', ')} (default ${d.preset}).` },
  context: { type: 'string', value: 'N', help: "Context length, overriding the preset's." },
  layers: { type: 'string', value: 'N', help: "Transformer blocks, overriding the preset's." },
  heads: { type: 'string', value: 'N', help: "Attention heads per block, overriding the preset's." },
  width: { type: 'string', value: 'N', help: "Embedding width (divisible by the heads), overriding the preset's." },
  steps: { type: 'string', value: 'N', help: `Train to N optimizer steps in total (default ${d.steps}).` },
  batch: { type: 'string', value: 'N', help: `Sequences per step (default ${d.batchSize}).` },
  'grad-accum': { type: 'string', value: 'N', help: 'Split each batch into N micro-batches to save memory (default 1).' },
  lr: { type: 'string', value: 'LR', help: `Peak learning rate (default ${d.lr}).` },
  'min-lr': { type: 'string', value: 'LR', help: 'Learning rate at the end of the cosine decay (default lr/10).' },
  warmup: { type: 'string', value: 'N', help: `Warmup steps (default ${d.warmupSteps}, or a tenth of --steps when less).` },
  'weight-decay': { type: 'string', value: 'W', help: `AdamW weight decay (default ${d.weightDecay}).` },
  'grad-clip': { type: 'string', value: 'C', help: `Clip the gradient norm to C, 0 for off (default ${d.gradClip}).` },
  'val-fraction': { type: 'string', value: 'F', help: `Fraction of the tokens held out for validation (default ${d.valFraction}).` },
  'eval-every': { type: 'string', value: 'N', help: `Validation loss every N steps, 0 for off (default ${d.evalEvery}).` },
  'sample-every': { type: 'string', value: 'N', help: `A greedy sample every N steps, 0 for off (default ${d.sampleEvery}).` },
  'sample-prompt': { type: 'string', value: 'TEXT', help: `Prompt of the samples (default '${d.samplePrompt}').` },
  'checkpoint-every': { type: 'string', value: 'N', help: `Checkpoint every N steps (default ${d.checkpointEvery}; always at the end).` },
  'keep-checkpoints': { type: 'string', value: 'N', help: `Step checkpoints to keep, 0 for all (default ${d.keepCheckpoints}).` },
  seed: { type: 'string', value: 'S', help: `Seed of the weights, data order and dropout (default ${d.seed}).` },
  ...BACKEND_OPTION,
};

/** PretrainOptions from the training flags (only those given: the rest keep pretrain's defaults). */
export function trainingOptions(values: FlagValues): Omit<PretrainOptions, 'outDir'> {
  const shape: Partial<GptConfig> = {
    contextLength: int(values, 'context', 2),
    nLayers: int(values, 'layers', 1),
    nHeads: int(values, 'heads', 1),
    embDim: int(values, 'width', 1),
  };
  for (const k of Object.keys(shape) as (keyof GptConfig)[]) if (shape[k] === undefined) delete shape[k];
  const model = Object.keys(shape).length > 0 ? shape : undefined;
  const o: Omit<PretrainOptions, 'outDir'> = {
    preset: choice(values, 'preset', PRESET_NAMES),
    model,
    steps: int(values, 'steps', 1),
    ...trainLoopFromFlags(values),
    sampleEvery: int(values, 'sample-every', 0),
    samplePrompt: str(values, 'sample-prompt'),
  };
  for (const k of Object.keys(o) as (keyof typeof o)[]) if (o[k] === undefined) delete o[k];
  return o;
}

/** Reads the --data files, folders and globs into one text, saying what was read and skipped. */
export async function readCorpus(io: CliIo, patterns: string[], quiet: boolean, maxBytes?: number): Promise<string> {
  const corpus = await loadCorpus(patterns, { cwd: io.cwd, signal: io.signal, maxFileBytes: maxBytes, sizeHint: MAX_FILE_HINT });
  if (corpus.files.length === 0) {
    throw new LlmLabError('not-found', `No readable text files match --data ${patterns.join(' ')}; check the paths or globs.`);
  }
  if (!quiet) {
    const bytes = corpus.files.reduce((s, f) => s + f.bytes, 0);
    println(io.stderr, `data: ${corpus.files.length} file${corpus.files.length === 1 ? '' : 's'}, ${thousands(bytes)} bytes${corpus.skipped.length ? `, ${corpus.skipped.length} skipped` : ''}`);
    for (const s of corpus.skipped.slice(0, 5)) println(io.stderr, `  skipped ${s.path}: ${s.reason}`);
  }
  return corpus.text;
}

export const pretrainCommand: Command = {
  name: 'pretrain',
  summary: 'Train a GPT from scratch on text files into a run folder.',
  usage: 'pretrain --data PATH... --out DIR [--preset tiny] [--steps N] [--resume] [flags]',
  description:
    '--data takes files, folders and globs (repeat it or list several). --resume continues the run in --out from its last ' +
    'checkpoint up to --steps (give the same data). Ctrl-C stops cleanly with a checkpoint; a second Ctrl-C forces.',
  options: {
    data: { type: 'string', multiple: true, value: 'PATH', help: 'Training text: files, folders or globs.' },
    out: { type: 'string', value: 'DIR', help: 'Run folder (config, checkpoints, metrics.jsonl).' },
    resume: { type: 'boolean', help: 'Continue the run in --out from its last checkpoint.' },
    ...maxFileOption(),
    tokenizer: { type: 'string', value: 'DIR', help: "A trained tokenizer's folder ('llm-lab tokenizer train'); the vocabulary follows it (default: GPT-2's)." },
    'fim-rate': { type: 'string', value: 'R', help: 'Fill-in-the-middle: the share of documents (files) rearranged as prefix, suffix, middle around three sentinel tokens added to the vocabulary, so the model learns to complete the middle of a text (default 0: off; StarCoder used 0.5).' },
    'fim-spm-rate': { type: 'string', value: 'S', help: 'Share of the fill-in-the-middle documents put in suffix-prefix-middle order instead (default 0; StarCoder used 0.5).' },
    ...TRAINING_OPTIONS,
  },
  positionals: true,
  examples: [
    'llm-lab pretrain --data samples/the-verdict.txt --out runs/verdict --steps 200',
    "llm-lab pretrain --data 'notes/**/*.md' --out runs/notes --preset small --lr 1e-3 --batch 16",
    'llm-lab pretrain --data samples/the-verdict.txt --out runs/verdict --steps 400 --resume',
    'llm-lab pretrain --data samples/the-verdict.txt --tokenizer tokenizers/verdict --out runs/own-vocab',
    "llm-lab pretrain --data 'src/**/*.ts' --out runs/code --fim-rate 0.5 --fim-spm-rate 0.5",
  ],
  async run({ values, positionals, io, json }) {
    // Several paths after one --data arrive as positionals (`--data a.txt b.txt`); they are data too.
    const patterns = [...list(values, 'data'), ...positionals];
    if (patterns.length === 0) throw new LlmLabError('bad-argument', "'llm-lab pretrain' needs --data PATH (files, folders or globs); see 'llm-lab pretrain --help'.");
    const out = path.resolve(io.cwd, required(values, 'pretrain', 'out', 'DIR (the run folder)'));
    const options = trainingOptions(values);
    await startEngine(values);
    const text = await readCorpus(io, patterns, json, maxFileBytes(values));
    const view = new TrainView(io, json);
    const started = Date.now();
    try {
      const tokenizerDir = str(values, 'tokenizer');
      const fimRate = num(values, 'fim-rate', 0, 1);
      const fimSpmRate = num(values, 'fim-spm-rate', 0, 1);
      const r = await pretrain(
        {
          ...options, text, outDir: out, resume: bool(values, 'resume'),
          ...(tokenizerDir ? { tokenizerDir: path.resolve(io.cwd, tokenizerDir) } : {}),
          ...(fimRate !== undefined ? { fimRate } : {}),
          ...(fimSpmRate !== undefined ? { fimSpmRate } : {}),
        },
        { signal: io.signal, onEvent: view.onEvent },
      ).catch((e: unknown) => {
        throw withFlagNames(e);
      });
      view.close();
      if (json) {
        println(io.stdout, JSON.stringify({ type: 'result', ...r })); // stdout stays one JSON object a line
      } else {
        const val = r.lastValLoss !== undefined ? `, validation loss ${r.lastValLoss.toFixed(3)}` : '';
        println(io.stderr, `${r.status === 'cancelled' ? 'stopped' : 'done'} at step ${r.step}/${r.totalSteps}${val} in ${duration(Date.now() - started)}; run folder ${r.outDir}`);
      }
      return r.status === 'cancelled' ? 130 : 0;
    } finally {
      view.close();
    }
  },
};
