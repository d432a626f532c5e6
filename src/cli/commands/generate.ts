// `llm-lab generate`: continues a prompt with a trained model, streaming the text as it is made.
import { bool, int, num, required, str } from '../args';
import type { Command } from '../command';
import { LlmLabError } from '../../core/errors';
import type { Candidate } from '../../core/generate';
import { generate } from '../../core/generate';
import { printJson, println } from '../io';
import { duration } from '../format';
import { openModel } from './modelFolder';
import { BACKEND_OPTION, drainStream, startEngine } from './shared';

export const generateCommand: Command = {
  name: 'generate',
  summary: 'Continue a prompt with a model, streaming the text.',
  usage: 'generate --model DIR --prompt TEXT [--max-new-tokens N] [--temperature T] [--top-k K] [--top-p P] [--seed S]',
  description:
    'Temperature 0 is greedy (always the most likely token). Generation stops at <|endoftext|> unless --no-stop. ' +
    'Past the context length the model sees the last context-length tokens.',
  options: {
    model: { type: 'string', value: 'DIR', help: 'Model folder, or a training run folder (its latest checkpoint).' },
    prompt: { type: 'string', value: 'TEXT', help: 'The text to continue ("" starts from <|endoftext|>).' },
    'max-new-tokens': { type: 'string', value: 'N', help: 'Tokens to generate at most (default 50).' },
    temperature: { type: 'string', value: 'T', help: 'Sampling temperature, 0 for greedy (default 1).' },
    'top-k': { type: 'string', value: 'K', help: 'Sample only among the K most likely tokens.' },
    'top-p': { type: 'string', value: 'P', help: 'Sample only among the most likely tokens that make up probability P.' },
    seed: { type: 'string', value: 'S', help: 'Seed of the sampling; the same seed repeats a run (default random).' },
    candidates: { type: 'string', value: 'N', help: 'With --json, the N most likely tokens of each step.' },
    'no-stop': { type: 'boolean', help: 'Go on past <|endoftext|>.' },
    'no-echo': { type: 'boolean', help: 'Print only the continuation, not the prompt.' },
    ...BACKEND_OPTION,
  },
  examples: [
    "llm-lab generate --model .llm-lab/runs/demo --prompt 'Every effort moves you' --temperature 0",
    "llm-lab generate --model gpt2-folder --prompt 'The meaning of life' --top-k 40 --temperature 0.8 --seed 7",
    "llm-lab generate --model run --prompt 'Hello' --json --candidates 5",
  ],
  async run({ values, io, json }) {
    const dir = required(values, 'generate', 'model', 'DIR (a model or run folder)');
    const prompt = str(values, 'prompt');
    if (prompt === undefined) throw new LlmLabError('bad-argument', "'llm-lab generate' needs --prompt TEXT; see 'llm-lab generate --help'.");
    const maxNewTokens = int(values, 'max-new-tokens', 0) ?? 50;
    const temperature = num(values, 'temperature', 0, 100) ?? 1;
    const topK = int(values, 'top-k', 1);
    const topP = num(values, 'top-p', 0, 1, true);
    const seed = int(values, 'seed', 0, 2 ** 32 - 1) ?? Math.floor(Math.random() * 2 ** 32);
    const topCandidates = int(values, 'candidates', 0, 100) ?? 0;
    await startEngine(values);
    const { model, tokenizer } = await openModel(io, dir);
    const ids: number[] = [];
    const candidates: Candidate[][] = [];
    let text = '';
    const started = Date.now();
    if (!json && !bool(values, 'no-echo')) io.stdout.write(prompt);
    const stream = generate(model, tokenizer, prompt, {
      maxNewTokens,
      temperature,
      topK,
      topP,
      seed,
      stopAtEot: !bool(values, 'no-stop'),
      topCandidates,
      signal: io.signal,
    });
    const { cancelled } = await drainStream(
      stream,
      (t) => {
        ids.push(t.id);
        text += t.text;
        if (t.candidates) candidates.push(t.candidates);
        if (!json) io.stdout.write(t.text);
      },
      model,
    );
    const ms = Date.now() - started;
    if (json) {
      printJson(io, { prompt, text, tokens: ids, seed, ...(topCandidates > 0 ? { candidates } : {}), ...(cancelled ? { cancelled } : {}) });
    } else {
      println(io.stdout);
      const rate = ids.length > 0 ? ` (${(ids.length / (ms / 1000)).toFixed(1)} tokens/s)` : '';
      println(io.stderr, `${cancelled ? 'stopped after ' : ''}${ids.length} tokens in ${duration(ms)}${rate}, seed ${seed}`);
    }
    return cancelled ? 130 : 0;
  },
};
