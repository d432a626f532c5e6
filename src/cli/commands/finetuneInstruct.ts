// `llm-lab finetune instruct`: instruction fine-tuning of a GPT (the book's chapter 7) into a run folder, the
// whole model or LoRA adapters (appendix E), with the pretraining progress view, Ctrl-C with a checkpoint and
// --resume; at the end the test split's responses are written beside the model as test-responses.json.
import * as path from 'node:path';
import { bool, choice, int, num, required, str } from '../args';
import type { FlagValues } from '../args';
import type { Command } from '../command';
import { LlmLabError } from '../../core/errors';
import type { InstructFinetuneOptions, InstructPlan } from '../../core/instruct';
import { finetuneInstruct, INSTRUCT_DEFAULTS, planInstructFinetune, PROMPT_STYLES } from '../../core/instruct';
import { formatBytes, PRESET_NAMES } from '../../core/model/config';
import type { CliIo } from '../io';
import { println } from '../io';
import { duration, thousands } from '../format';
import { LORA_OPTIONS, loraFromFlags } from './loraFlags';
import { finetuneFlagNames, loopFlagOptions, loopFromFlags } from './loopFlags';
import { BACKEND_OPTION, startEngine } from './shared';
import { TrainView } from './trainView';

const d = INSTRUCT_DEFAULTS;
/** How messages name the command. */
const NAME = 'finetune instruct';

/** Instruction fine-tuning's own option names → the flags that set them, for error messages. */
const FLAGS: Readonly<Record<string, string>> = {
  dropout: '--dropout', maxResponseTokens: '--max-response-tokens', promptStyle: '--prompt-style', maskPrompt: '--mask-prompt',
};

const flagNames = (e: unknown): unknown => finetuneFlagNames(e, FLAGS);

function optionsFrom(values: FlagValues, io: CliIo): Omit<InstructFinetuneOptions, 'outDir'> {
  const model = str(values, 'model');
  const o: Omit<InstructFinetuneOptions, 'outDir'> = {
    ...(model !== undefined ? { modelDir: path.resolve(io.cwd, model) } : {}),
    preset: choice(values, 'preset', PRESET_NAMES),
    promptStyle: choice(values, 'prompt-style', PROMPT_STYLES),
    maskPrompt: bool(values, 'mask-prompt') ? true : undefined,
    ...loopFromFlags(values),
    dropout: num(values, 'dropout', 0, 0.99),
    responses: bool(values, 'no-responses') ? false : undefined,
    maxResponseTokens: int(values, 'max-response-tokens', 1),
    lora: loraFromFlags(values, NAME),
  };
  for (const k of Object.keys(o) as (keyof typeof o)[]) if (o[k] === undefined) delete o[k];
  return o;
}

/** The summary printed before training starts. */
export function planLines(p: InstructPlan): string[] {
  const pct = ((100 * p.trainableParameters) / p.parameters).toFixed(2);
  const lora = p.lora ? `LoRA rank ${p.lora.rank}, alpha ${p.lora.alpha} on ${p.lora.targets.join(', ')}: ` : '';
  return [
    `data: ${thousands(p.records)} records: ${thousands(p.split.train)} train / ${thousands(p.split.val)} validation / ${thousands(p.split.test)} test; ` +
      `longest ${thousands(p.maxTokens)} tokens (context ${thousands(p.contextLength)}${p.truncated ? `, ${p.truncated} cut to it` : ''}); ${p.promptStyle} prompts`,
    `model: ${p.baseModel}; ${lora}${thousands(p.trainableParameters)} trainable of ${thousands(p.parameters)} parameters (${pct}%)`,
    `steps: ${p.stepsPerEpoch} per epoch, ${p.totalSteps} in all${p.resume ? `, resuming at step ${p.resumeStep}` : ''}; ` +
      `memory about ${formatBytes(p.memory.trainingBytes)} of ${formatBytes(p.memory.machineBytes)}`,
  ];
}

export const finetuneInstructCommand: Command = {
  name: 'instruct',
  summary: 'Fine-tune a GPT on instruction data (the whole model, or LoRA adapters).',
  usage: 'finetune instruct (--model DIR | --preset NAME) --data FILE --out DIR [--prompt-style alpaca|phi3] [--mask-prompt] [--lora-rank R] [--resume] [flags]',
  description:
    '--data is a JSON array or JSON Lines of {instruction, input, output}. The first 85% trains, the next 10% tests, the rest ' +
    'validates (--val-fraction, --test-fraction). Batches are the book’s: one <|endoftext|> appended, padded, padding targets ' +
    'ignored. After training the test records are answered greedily into <out>/test-responses.json. The prompt style is ' +
    'saved with the model for ask, generate and eval. With --lora-rank only adapters train; the checkpoints are adapter ' +
    'folders over the base. Ctrl-C stops with a checkpoint; --resume continues.',
  options: {
    model: { type: 'string', value: 'DIR', help: 'The base model: a model folder, a run folder or a downloaded GPT-2.' },
    preset: { type: 'string', value: 'NAME', help: `Or start from fresh weights of a preset: ${PRESET_NAMES.join(', ')}.` },
    data: { type: 'string', value: 'FILE', help: 'Instruction data: a JSON array or JSON Lines file.' },
    out: { type: 'string', value: 'DIR', help: 'Run folder (checkpoints, metrics.jsonl, test-responses.json).' },
    'prompt-style': { type: 'string', value: 'S', help: `${PROMPT_STYLES.join(' or ')} (default ${d.promptStyle}).` },
    'mask-prompt': { type: 'boolean', help: 'Learn only the responses: the prompt’s targets are ignored.' },
    ...loopFlagOptions(d, { rows: 'records', evaluation: 'Validation and training loss', seeds: 'the data order, dropout and new weights' }),
    dropout: { type: 'string', value: 'P', help: `Dropout while training (default ${d.dropout}).` },
    'no-responses': { type: 'boolean', help: 'Do not generate the test responses after training.' },
    'max-response-tokens': { type: 'string', value: 'N', help: `Tokens each test response may have (default ${d.maxResponseTokens}).` },
    ...LORA_OPTIONS,
    ...BACKEND_OPTION,
  },
  examples: [
    'llm-lab finetune instruct --model ~/.cache/llm-lab/models/gpt2-medium --data samples/instruction-data.json --out runs/instruct',
    'llm-lab finetune instruct --preset small --data samples/instruction-data.json --out runs/instruct-small --lr 1e-3 --epochs 4',
    'llm-lab finetune instruct --model models/gpt2 --data samples/instruction-data.json --out runs/instruct-lora --lora-rank 16 --lora-alpha 16',
    'llm-lab finetune instruct --data samples/instruction-data.json --out runs/instruct --resume',
  ],
  async run({ values, io, json }) {
    const data = required(values, NAME, 'data', 'FILE (instruction data)');
    const out = path.resolve(io.cwd, required(values, NAME, 'out', 'DIR (the run folder)'));
    const options: InstructFinetuneOptions = { ...optionsFrom(values, io), outDir: out, dataFile: path.resolve(io.cwd, data) };
    if (!options.resume && options.modelDir === undefined && options.preset === undefined) {
      throw new LlmLabError('bad-argument', `'llm-lab ${NAME}' needs --model DIR (the base model) or --preset NAME; see 'llm-lab ${NAME} --help'.`);
    }
    await startEngine(values);
    const plan = await planInstructFinetune(options).catch((e: unknown) => {
      throw flagNames(e);
    });
    if (json) println(io.stdout, JSON.stringify({ type: 'plan', ...plan }));
    else for (const l of planLines(plan)) println(io.stderr, l);
    const view = new TrainView(io, json);
    const started = Date.now();
    try {
      const r = await finetuneInstruct(options, { signal: io.signal, onEvent: view.onEvent }).catch((e: unknown) => {
        throw flagNames(e);
      });
      view.close();
      if (json) println(io.stdout, JSON.stringify({ type: 'result', ...r }));
      else {
        const val = r.lastValLoss !== undefined ? `, validation loss ${r.lastValLoss.toFixed(3)}` : '';
        println(io.stderr, `${r.status === 'cancelled' ? 'stopped' : 'done'} at step ${r.step}/${r.totalSteps}${val} in ${duration(Date.now() - started)}; run folder ${r.outDir}`);
        if (r.responsesFile) println(io.stderr, `test responses: ${r.responsesFile}`);
      }
      return r.status === 'cancelled' ? 130 : 0;
    } finally {
      view.close();
    }
  },
};
