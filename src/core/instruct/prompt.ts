// Prompt styles of instruction fine-tuning: how an {instruction, input, output} record becomes the text a GPT
// learns from and is later asked with. `alpaca` is the book's chapter 7 template, character for character;
// `phi3` is its exercise 7.1 variant. A fine-tuned model records its style, so asking it later formats the
// same way.
import { PROMPT_STYLES } from '../../protocol/model';
import { LlmLabError } from '../errors';

/** One instruction example; `input` is the optional context ("" when there is none). */
export interface InstructionRecord {
  instruction: string;
  input: string;
  output: string;
}

/** The styles' names are declared with the protocol, which the panel shares. */
export { PROMPT_STYLES };
export type PromptStyle = (typeof PROMPT_STYLES)[number];
export const DEFAULT_PROMPT_STYLE: PromptStyle = 'alpaca';

interface StyleText {
  /** The instruction (and input) part: what the model is given. */
  prompt(instruction: string, input: string): string;
  /** Put between the prompt and the response; the prompt plus this is what generation starts from. */
  responseHeader: string;
}

const STYLES: Record<PromptStyle, StyleText> = {
  alpaca: {
    prompt: (instruction, input) =>
      'Below is an instruction that describes a task. Write a response that appropriately completes the request.' +
      `\n\n### Instruction:\n${instruction}` +
      (input ? `\n\n### Input:\n${input}` : ''),
    responseHeader: '\n\n### Response:\n',
  },
  phi3: {
    prompt: (instruction, input) => `<|user|>\n${instruction}` + (input ? `\n${input}` : ''),
    responseHeader: '\n<|assistant|>:\n',
  },
};

export function isPromptStyle(name: unknown): name is PromptStyle {
  return typeof name === 'string' && (PROMPT_STYLES as readonly string[]).includes(name);
}

/** The style named by a model's metadata or a flag; undefined gives the default, anything unknown is an error. */
export function promptStyleOf(name: unknown, where = 'The prompt style'): PromptStyle {
  if (name === undefined || name === null) return DEFAULT_PROMPT_STYLE;
  if (!isPromptStyle(name)) {
    throw new LlmLabError('bad-argument', `${where} '${String(name)}' is not one LLM Lab knows; use ${PROMPT_STYLES.join(' or ')}.`);
  }
  return name;
}

/** The instruction part of a record (the book's `format_input`). */
export function formatPrompt(style: PromptStyle, r: Pick<InstructionRecord, 'instruction' | 'input'>): string {
  return STYLES[style].prompt(r.instruction, r.input);
}

/** The text generation starts from to answer a record: its prompt and the response header. */
export function formatQuery(style: PromptStyle, r: Pick<InstructionRecord, 'instruction' | 'input'>): string {
  return formatPrompt(style, r) + STYLES[style].responseHeader;
}

/** The whole training text of a record: prompt, response header, output. */
export function formatExample(style: PromptStyle, r: InstructionRecord): string {
  return formatQuery(style, r) + r.output;
}
