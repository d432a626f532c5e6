// `llm-lab eval`: a model's mean next-token loss and perplexity on a text file.
import { int, required } from '../args';
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
  usage: 'eval --model DIR --data FILE [--batch N]',
  description:
    'The text is cut into consecutive windows of the context length (the last one shorter); the loss is the mean ' +
    'cross-entropy over every predicted token, and perplexity is e to that loss.',
  options: {
    model: { type: 'string', value: 'DIR', help: 'Model folder, or a training run folder (its latest checkpoint).' },
    data: { type: 'string', value: 'FILE', help: 'Text file to evaluate on.' },
    batch: { type: 'string', value: 'N', help: 'Windows per forward pass (default 4).' },
    ...maxFileOption(),
    ...BACKEND_OPTION,
  },
  examples: ['llm-lab eval --model .llm-lab/runs/demo --data samples/the-verdict.txt', 'llm-lab eval --model gpt2-folder --data notes.txt --json'],
  async run({ values, io, json }) {
    const dir = required(values, 'eval', 'model', 'DIR (a model or run folder)');
    const file = required(values, 'eval', 'data', 'FILE (a text file)');
    const batchSize = int(values, 'batch', 1);
    const text = await readTextFile(io, file, 'Data file', maxFileBytes(values));
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
