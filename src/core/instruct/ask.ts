// Asking an instruction-tuned model: the instruction (and input) formatted in the model's prompt style up to
// the response header, then generation until <|endoftext|>. Greedy by default, as the book's chapter 7.
import type { GeneratedToken, GenerateOptions, GenerationTokenizer } from '../generate';
import { generate } from '../generate';
import type { GptModel } from '../model/gpt';
import type { InstructionRecord, PromptStyle } from './prompt';
import { formatQuery } from './prompt';

/** Tokens of a response the book's test-set generation allows (256). */
export const DEFAULT_RESPONSE_TOKENS = 256;

export type AskOptions = Partial<Omit<GenerateOptions, 'stopAtEot' | 'allowSpecial'>>;

/** Streams the model's response to an instruction; stops at <|endoftext|> (not yielded). */
export function ask(
  model: GptModel,
  tokenizer: GenerationTokenizer,
  style: PromptStyle,
  r: Pick<InstructionRecord, 'instruction' | 'input'>,
  o: AskOptions = {},
): AsyncGenerator<GeneratedToken> {
  // The prompt is tokenized as in training: text that looks like a special token stays plain text.
  const given = Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as AskOptions; // an unset flag keeps the default
  return generate(model, tokenizer, formatQuery(style, r), {
    temperature: 0,
    maxNewTokens: DEFAULT_RESPONSE_TOKENS,
    ...given,
    stopAtEot: true,
    allowSpecial: false,
  });
}

/** The whole response, trimmed of surrounding white space as the book's extraction does. */
export async function respond(
  model: GptModel,
  tokenizer: GenerationTokenizer,
  style: PromptStyle,
  r: Pick<InstructionRecord, 'instruction' | 'input'>,
  o: AskOptions = {},
): Promise<string> {
  let text = '';
  for await (const t of ask(model, tokenizer, style, r, o)) text += t.text;
  return text.trim();
}
