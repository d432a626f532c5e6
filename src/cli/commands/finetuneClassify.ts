// `llm-lab finetune classify`: fine-tunes a classifier (a GPT body and a class head) on labelled texts into a run
// folder, with a summary of the data and the model before it starts, the same progress bar, Ctrl-C and --resume
// as pretrain, and the test split's accuracy and confusion matrix at the end.
import * as path from 'node:path';
import { bool, choice, int, num, required, str } from '../args';
import type { FlagValues } from '../args';
import type { Command } from '../command';
import type { ClassifierPlan, ClassifyOptions, TrainableChoice } from '../../core/classify';
import { CLASSIFY_DEFAULTS, DATA_FORMATS, finetuneClassifier, isTrainableChoice, planClassifier } from '../../core/classify';
import { LlmLabError } from '../../core/errors';
import type { GptConfig } from '../../core/model/config';
import { formatBytes, PRESET_NAMES } from '../../core/model/config';
import type { CliIo } from '../io';
import { printJson, println } from '../io';
import { duration, thousands } from '../format';
import { BACKEND_OPTION, maxFileBytes, maxFileOption, startEngine } from './shared';
import { finetuneFlagNames, loopFlagOptions, loopFromFlags } from './loopFlags';
import { LORA_OPTIONS, loraFromFlags } from './loraFlags';
import { TrainView } from './trainView';

const d = CLASSIFY_DEFAULTS;

/** Classification's own option names → the flags that set them, for error messages. */
const FLAGS: Readonly<Record<string, string>> = {
  maxLength: '--max-length', trainEvalBatches: '--train-eval-batches', trainable: '--trainable', modelDir: '--model', dataFile: '--data',
  textField: '--text-field', labelField: '--label-field',
};

const flagNames = (e: unknown): unknown => finetuneFlagNames(e, FLAGS);

/** ClassifyOptions from the flags (only those given). */
export function classifyOptions(values: FlagValues, cwd: string): Omit<ClassifyOptions, 'outDir' | 'dataFile'> {
  const trainable = str(values, 'trainable');
  if (trainable !== undefined && !isTrainableChoice(trainable)) {
    throw new LlmLabError('bad-argument', `--trainable must be head, last-block, last-N (e.g. last-2) or all; got '${trainable}'.`);
  }
  const shape: Partial<GptConfig> = {
    contextLength: int(values, 'context', 2),
    nLayers: int(values, 'layers', 1),
    nHeads: int(values, 'heads', 1),
    embDim: int(values, 'width', 1),
    dropRate: num(values, 'dropout', 0, 0.99),
  };
  for (const k of Object.keys(shape) as (keyof GptConfig)[]) if (shape[k] === undefined) delete shape[k];
  const modelDir = str(values, 'model');
  const preset = choice(values, 'preset', PRESET_NAMES);
  if (trainable !== undefined && str(values, 'lora-rank') !== undefined) {
    throw new LlmLabError('bad-argument', '--trainable and --lora-rank exclude each other: with LoRA the adapters train (and the head, when it is not among --lora-targets).');
  }
  if (modelDir !== undefined && preset !== undefined) throw new LlmLabError('bad-argument', "Give --model DIR or --preset NAME, not both; see 'llm-lab finetune classify --help'.");
  if (modelDir !== undefined && Object.keys(shape).some((k) => k !== 'dropRate')) {
    throw new LlmLabError('bad-argument', "--context, --layers, --heads and --width shape a preset's fresh model; a --model folder keeps its own shape.");
  }
  const o: Omit<ClassifyOptions, 'outDir' | 'dataFile'> = {
    format: choice(values, 'format', DATA_FORMATS),
    textField: str(values, 'text-field'),
    labelField: str(values, 'label-field'),
    modelDir: modelDir !== undefined ? path.resolve(cwd, modelDir) : undefined,
    preset,
    model: Object.keys(shape).length > 0 ? shape : undefined,
    trainable: trainable as TrainableChoice | undefined,
    lora: loraFromFlags(values, 'finetune classify'),
    ...loopFromFlags(values),
    maxLength: int(values, 'max-length', 1),
    balance: values.balance === true ? true : undefined,
    trainEvalBatches: int(values, 'train-eval-batches', 0),
    maxFileBytes: maxFileBytes(values),
  };
  for (const k of Object.keys(o) as (keyof typeof o)[]) if (o[k] === undefined) delete o[k];
  return o;
}

const pct = (x: number): string => `${(100 * x).toFixed(2)}%`;

/** What LoRA trains, for the summary. */
function loraLine(p: ClassifierPlan): string {
  const l = p.options.lora!;
  const head = l.targets.includes('head') ? 'the new head kept as made with its own adapter' : 'the new head trained whole';
  return `LoRA: rank ${l.rank}, alpha ${l.alpha} on ${l.targets.join(', ')}; the base frozen, ${head} (${pct(p.trainableParameters / p.parameters)} of the parameters train)`;
}

/** The summary shown before a run starts. */
export function planLines(p: ClassifierPlan): string[] {
  const classes = p.labels.map((l) => (p.balanced ? `${l} ${thousands(p.perClass[l])} → ${thousands(p.perClassBalanced[l])}` : `${l} ${thousands(p.perClass[l])}`));
  return [
    `data: ${p.file} (${p.format}${p.header ? ', header row' : ', no header'}; text '${p.textColumn}', label '${p.labelColumn}'): ${thousands(p.rows)} examples`,
    `classes${p.balanced ? ' (balanced by undersampling)' : ''}: ${classes.join(', ')}`,
    `split: ${thousands(p.split.train)} training, ${thousands(p.split.val)} validation, ${thousands(p.split.test)} test`,
    `length: padded to ${p.maxLength} tokens (longest training text ${p.longest}${p.truncated ? `; ${p.truncated} text(s) cut` : ''})`,
    `model: ${p.base}; ${thousands(p.parameters)} parameters, ${thousands(p.trainableParameters)} trained (${p.trainable})`,
    ...(p.options.lora ? [loraLine(p)] : []),
    `training: ${p.epochs} epoch(s) × ${p.stepsPerEpoch} steps = ${p.steps} steps; memory about ${formatBytes(p.memory.trainingBytes)}`,
  ];
}

export const finetuneClassifyCommand: Command = {
  name: 'classify',
  summary: 'Fine-tune a classifier on labelled texts (TSV, CSV, JSONL or a JSON array) into a run folder.',
  usage: 'finetune classify (--model DIR | --preset NAME) --data FILE --out DIR [--trainable last-block | --lora-rank R] [--epochs 5] [--balance] [--resume] [flags]',
  description:
    'The data: a TSV or CSV file with or without a header (headerless: label and text, e.g. the SMS Spam Collection), or JSONL ' +
    `objects (or a JSON array of them) with a text and a label. A head with one output per class reads the last real token's hidden state. Defaults as the book's ` +
    `chapter 6: AdamW at a constant ${d.lr}, weight decay ${d.weightDecay}, ${d.epochs} epochs of batch ${d.batchSize}, the last block, final norm and head trained, ` +
    'a 70/10/20 split. --lora-rank trains LoRA adapters instead, the base frozen (appendix E; every linear layer and the new head by default), ' +
    'and saves each checkpoint as an adapter folder with the head. Ctrl-C stops cleanly with a checkpoint; --resume continues (give the same --data).',
  options: {
    model: { type: 'string', value: 'DIR', help: 'Base model: a run folder, a model folder, a downloaded GPT-2 or any GPT-2 folder.' },
    preset: { type: 'string', value: 'NAME', help: `Or fresh seeded weights of a preset: ${PRESET_NAMES.join(', ')}.` },
    data: { type: 'string', value: 'FILE', help: 'Labelled texts: .tsv, .csv, .jsonl or .json.' },
    out: { type: 'string', value: 'DIR', help: 'Run folder (checkpoints in the Hugging Face classifier layout, metrics.jsonl).' },
    plan: { type: 'boolean', help: 'Print the summary (classes, split, length, parameters, memory) and stop.' },
    trainable: { type: 'string', value: 'WHAT', help: 'What trains: last-block (default), head, last-N, all.' },
    ...LORA_OPTIONS,
    ...loopFlagOptions(d, { rows: 'examples', evaluation: 'Validation loss and accuracy', seeds: 'the balancing, split, order, new weights and dropout' }),
    'max-length': { type: 'string', value: 'N', help: 'Cut texts to N tokens (default the context length).' },
    balance: { type: 'boolean', help: 'Undersample every class to the smallest one.' },
    'text-field': { type: 'string', value: 'T', help: "Text column or JSON key: a name or a 1-based column number (default 'text')." },
    'label-field': { type: 'string', value: 'L', help: "Label column or JSON key (default 'label')." },
    format: { type: 'string', value: 'F', help: `Data format: ${DATA_FORMATS.join(', ')} (default from the extension).` },
    'train-eval-batches': { type: 'string', value: 'N', help: `Training batches measured per evaluation, 0 for all (default ${d.trainEvalBatches}).` },
    context: { type: 'string', value: 'N', help: "With --preset: context length, overriding the preset's." },
    layers: { type: 'string', value: 'N', help: "With --preset: transformer blocks." },
    heads: { type: 'string', value: 'N', help: 'With --preset: attention heads.' },
    width: { type: 'string', value: 'N', help: 'With --preset: embedding width.' },
    dropout: { type: 'string', value: 'P', help: "Dropout rate (default the model's)." },
    ...maxFileOption(),
    ...BACKEND_OPTION,
  },
  examples: [
    'llm-lab finetune classify --model ~/.cache/llm-lab/models/gpt2 --data samples/SMSSpamCollection.tsv --balance --out runs/spam',
    'llm-lab finetune classify --preset small --trainable all --data samples/SMSSpamCollection.tsv --balance --out runs/spam-small --plan',
    'llm-lab finetune classify --model runs/verdict --data reviews.jsonl --text-field review --label-field stars --out runs/stars',
    'llm-lab finetune classify --model ~/.cache/llm-lab/models/gpt2 --data samples/SMSSpamCollection.tsv --balance --out runs/spam-lora --lora-rank 16 --lora-alpha 16',
    'llm-lab finetune classify --data samples/SMSSpamCollection.tsv --out runs/spam --epochs 8 --resume',
  ],
  async run({ values, io, json }) {
    const dataFile = path.resolve(io.cwd, required(values, 'finetune classify', 'data', 'FILE (labelled texts: .tsv, .csv, .jsonl or .json)'));
    const out = path.resolve(io.cwd, required(values, 'finetune classify', 'out', 'DIR (the run folder)'));
    const options: ClassifyOptions = { ...classifyOptions(values, io.cwd), dataFile, outDir: out };
    if (!options.resume && options.modelDir === undefined && options.preset === undefined) {
      throw new LlmLabError('bad-argument', "'llm-lab finetune classify' needs --model DIR (a GPT-2 or a run) or --preset NAME (fresh weights); see --help.");
    }
    await startEngine(values);
    const plan = await planClassifier(options).catch((e: unknown) => {
      throw flagNames(e);
    });
    if (bool(values, 'plan')) {
      if (json) printJson(io, plan);
      else for (const l of planLines(plan)) println(io.stdout, l);
      return 0;
    }
    if (!json) for (const l of planLines(plan)) println(io.stderr, l);
    return train(io, json, options);
  },
};

async function train(io: CliIo, json: boolean, options: ClassifyOptions): Promise<number> {
  const view = new TrainView(io, json);
  const started = Date.now();
  try {
    const r = await finetuneClassifier(options, { signal: io.signal, onEvent: view.onEvent }).catch((e: unknown) => {
      throw flagNames(e);
    });
    view.close();
    if (json) {
      println(io.stdout, JSON.stringify({ type: 'result', ...r }));
    } else {
      const t = r.test ? `, test accuracy ${pct(r.test.accuracy)}` : '';
      println(io.stderr, `${r.status === 'cancelled' ? 'stopped' : 'done'} at step ${r.step}/${r.totalSteps}${t} in ${duration(Date.now() - started)}; run folder ${r.outDir}`);
    }
    return r.status === 'cancelled' ? 130 : 0;
  } finally {
    view.close();
  }
}
