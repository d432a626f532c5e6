// `llm-lab ask`: an instruction (and optional input) to an instruction-tuned model, formatted in the prompt
// style the model was fine-tuned with; the response streams until <|endoftext|>.
import { choice, int, num, required, str } from '../args';
import type { Command } from '../command';
import { ask, DEFAULT_RESPONSE_TOKENS, PROMPT_STYLES, promptStyleOf } from '../../core/instruct';
import { printJson, println } from '../io';
import { duration } from '../format';
import { openModel } from './modelFolder';
import { BACKEND_OPTION, drainStream, startEngine } from './shared';

export const askCommand: Command = {
  name: 'ask',
  summary: 'Ask an instruction-tuned model, streaming its response.',
  usage: 'ask --model DIR --instruction TEXT [--input TEXT] [--prompt-style S] [--max-new-tokens N] [--temperature T]',
  description:
    'The instruction is formatted in the prompt style recorded with the model (alpaca when it records none) up to the ' +
    'response header; the model answers greedily (temperature 0) unless told otherwise and stops at <|endoftext|>.',
  options: {
    model: { type: 'string', value: 'DIR', help: 'An instruction-tuned model, run or LoRA adapter folder.' },
    instruction: { type: 'string', value: 'TEXT', help: 'What the model should do.' },
    input: { type: 'string', value: 'TEXT', help: 'Optional context for the instruction.' },
    'prompt-style': { type: 'string', value: 'S', help: `${PROMPT_STYLES.join(' or ')} (default: the model's own).` },
    'max-new-tokens': { type: 'string', value: 'N', help: `Response tokens at most (default ${DEFAULT_RESPONSE_TOKENS}).` },
    temperature: { type: 'string', value: 'T', help: 'Sampling temperature (default 0: greedy).' },
    'top-k': { type: 'string', value: 'K', help: 'Sample only among the K most likely tokens.' },
    seed: { type: 'string', value: 'S', help: 'Seed of the sampling.' },
    ...BACKEND_OPTION,
  },
  examples: [
    "llm-lab ask --model runs/instruct --instruction 'Rewrite the sentence using a simile.' --input 'The car is very fast.'",
    "llm-lab ask --model runs/instruct-lora --instruction 'Name the capital of France.' --json",
  ],
  async run({ values, io, json }) {
    const dir = required(values, 'ask', 'model', 'DIR (an instruction-tuned model)');
    const instruction = required(values, 'ask', 'instruction', 'TEXT');
    const input = str(values, 'input') ?? '';
    const flagStyle = choice(values, 'prompt-style', PROMPT_STYLES);
    const maxNewTokens = int(values, 'max-new-tokens', 1);
    const temperature = num(values, 'temperature', 0, 100);
    const topK = int(values, 'top-k', 1);
    const seed = int(values, 'seed', 0, 2 ** 32 - 1);
    await startEngine(values);
    const { model, tokenizer, meta } = await openModel(io, dir);
    const style = flagStyle ?? promptStyleOf(meta.promptStyle, `The model's recorded prompt style`);
    let text = '';
    let tokens = 0;
    const started = Date.now();
    const { cancelled } = await drainStream(
      ask(model, tokenizer, style, { instruction, input }, { maxNewTokens, temperature, topK, seed, signal: io.signal }),
      (t) => {
        text += t.text;
        tokens++;
        if (!json) io.stdout.write(t.text);
      },
      model,
    );
    if (json) printJson(io, { instruction, input, promptStyle: style, response: text.trim(), tokens, ...(cancelled ? { cancelled } : {}) });
    else {
      println(io.stdout);
      println(io.stderr, `${cancelled ? 'stopped after ' : ''}${tokens} tokens in ${duration(Date.now() - started)} (${style} prompt)`);
    }
    return cancelled ? 130 : 0;
  },
};
