// `llm-lab eval`: a model's mean next-token loss and perplexity on a text file, or on instruction data
// (--task instruct: each record one sequence as fine-tuning builds it).
import * as path from 'node:path';
import { bool, choice, int, required } from '../args';
import { evaluateInstructions, parseInstructionData, PROMPT_STYLES, promptStyleOf } from '../../core/instruct';
import type { Command } from '../command';
import { evaluateText } from '../../core/eval';
import { printJson, println } from '../io';
import { duration, thousands } from '../format';
import { ProgressBar } from '../progress';
import { openModel } from './modelFolder';
import { BACKEND_OPTION, maxFileBytes, maxFileOption, readTextFile, startEngine } from './shared';

export const evalCommand: Command = {
  name: 'eval',
  summary: 'Measure a model’s loss and perplexity on a text file.',
  usage: 'eval --model DIR --data FILE [--batch N] [--task text|instruct [--prompt-style S] [--mask-prompt]]',
  description:
    'The text is cut into consecutive windows of the context length (the last one shorter); the loss is the mean ' +
    'cross-entropy over every predicted token, and perplexity is e to that loss. With --task instruct the file is ' +
    'instruction data (JSON array or JSON Lines of {instruction, input, output}); each record is one sequence in the ' +
    'prompt style with <|endoftext|> appended, and the loss is the mean over every target that counts (the response ' +
    'only with --mask-prompt); tokens is how many targets counted.',
  options: {
    model: { type: 'string', value: 'DIR', help: 'Model folder, or a training run folder (its latest checkpoint).' },
    data: { type: 'string', value: 'FILE', help: 'Text file to evaluate on.' },
    batch: { type: 'string', value: 'N', help: 'Windows (or records) per forward pass (default 4; 8 for instruct).' },
    task: { type: 'string', value: 'T', help: 'text (default) or instruct.' },
    'prompt-style': { type: 'string', value: 'S', help: `With --task instruct: ${PROMPT_STYLES.join(' or ')} (default: the model's own).` },
    'mask-prompt': { type: 'boolean', help: 'With --task instruct: count only the response targets.' },
    ...maxFileOption(),
    ...BACKEND_OPTION,
  },
  examples: [
    'llm-lab eval --model .llm-lab/runs/demo --data samples/the-verdict.txt',
    'llm-lab eval --model gpt2-folder --data notes.txt --json',
    'llm-lab eval --model runs/instruct --data samples/instruction-data.json --task instruct --json',
  ],
  async run({ values, io, json }) {
    const dir = required(values, 'eval', 'model', 'DIR (a model or run folder)');
    const file = required(values, 'eval', 'data', 'FILE (a text file)');
    const batchSize = int(values, 'batch', 1);
    const task = choice(values, 'task', ['text', 'instruct'] as const) ?? 'text';
    const text = await readTextFile(io, file, 'Data file', maxFileBytes(values));
    if (task === 'instruct') return evalInstruct({ values, io, json }, dir, path.resolve(io.cwd, file), text, batchSize);
    await startEngine(values);
    const { model, tokenizer } = await openModel(io, dir);
    const started = Date.now();
    let bar: ProgressBar | undefined;
    try {
      const r = await evaluateText(model, tokenizer, text, {
        batchSize,
        signal: io.signal,
        onProgress: (done, total) => {
          if (json) return;
          bar ??= new ProgressBar({ sink: io.stderr, isTTY: io.isTTY, columns: io.columns, total });
          bar.update(done, 'tokens');
        },
      });
      bar?.done();
      if (json) {
        printJson(io, { loss: r.loss, perplexity: r.perplexity, tokens: r.tokens, predicted: r.predicted, windows: r.windows });
        return;
      }
      println(io.stdout, `loss ${r.loss.toFixed(4)}  perplexity ${r.perplexity.toFixed(2)}  (${thousands(r.tokens)} tokens in ${r.windows} windows, ${duration(Date.now() - started)})`);
    } finally {
      bar?.done();
      model.dispose();
    }
  },
};

/** `eval --task instruct`: the loss over every counted target of instruction data. */
async function evalInstruct(
  { values, io, json }: Pick<Parameters<Command['run']>[0], 'values' | 'io' | 'json'>,
  dir: string,
  file: string,
  text: string,
  batchSize: number | undefined,
): Promise<void> {
  const records = parseInstructionData(text, file);
  const flagStyle = choice(values, 'prompt-style', PROMPT_STYLES);
  await startEngine(values);
  const { model, tokenizer, meta } = await openModel(io, dir);
  const style = flagStyle ?? promptStyleOf(meta.promptStyle, "The model's recorded prompt style");
  const started = Date.now();
  let bar: ProgressBar | undefined;
  try {
    const r = await evaluateInstructions(model, tokenizer, records, {
      style,
      maskPrompt: bool(values, 'mask-prompt'),
      batchSize,
      signal: io.signal,
      onProgress: (done, total) => {
        if (json) return;
        bar ??= new ProgressBar({ sink: io.stderr, isTTY: io.isTTY, columns: io.columns, total });
        bar.update(done, 'records');
      },
    });
    bar?.done();
    if (json) printJson(io, { loss: r.loss, perplexity: r.perplexity, tokens: r.tokens, records: r.records, promptStyle: style });
    else println(io.stdout, `loss ${r.loss.toFixed(4)}  perplexity ${r.perplexity.toFixed(2)}  (${thousands(r.tokens)} targets of ${r.records} records, ${style} prompts, ${duration(Date.now() - started)})`);
  } finally {
    bar?.done();
    model.dispose();
  }
}
