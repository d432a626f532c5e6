// The test split's responses after instruction fine-tuning (the book's section 7.7): each test record answered
// greedily in the run's prompt style until <|endoftext|>, written as JSON — every record plus `model_response` —
// ready for any scorer (the book's Ollama/Llama 3 judge, or a person). Cancellable between tokens.
import * as path from 'node:path';
import { writeJsonAtomic } from '../checkpoint/atomic';
import { CancelledError } from '../errors';
import type { GenerationTokenizer } from '../generate';
import type { GptModel } from '../model/gpt';
import { respond } from './ask';
import type { InstructionRecord, PromptStyle } from './prompt';

/** File name of the responses in the run folder. */
export const TEST_RESPONSES_FILE = 'test-responses.json';

export type RecordWithResponse = InstructionRecord & { model_response: string };

export interface ResponsesOptions {
  style: PromptStyle;
  maxNewTokens: number;
  signal?: AbortSignal;
  /** After each record: how many are done, of how many. */
  onProgress?: (done: number, total: number) => void;
}

/** Every record's response; undefined when cancelled (nothing is written then). */
export async function generateResponses(
  model: GptModel,
  tokenizer: GenerationTokenizer,
  records: readonly InstructionRecord[],
  o: ResponsesOptions,
): Promise<RecordWithResponse[] | undefined> {
  const out: RecordWithResponse[] = [];
  try {
    for (const r of records) {
      const response = await respond(model, tokenizer, o.style, r, { maxNewTokens: o.maxNewTokens, signal: o.signal });
      out.push({ instruction: r.instruction, input: r.input, output: r.output, model_response: response });
      o.onProgress?.(out.length, records.length);
    }
  } catch (e) {
    if (e instanceof CancelledError) return undefined;
    throw e;
  }
  return out;
}

/** Writes the responses into `dir` (atomically) and returns the file. */
export async function writeResponses(dir: string, rows: readonly RecordWithResponse[]): Promise<string> {
  const file = path.join(dir, TEST_RESPONSES_FILE);
  await writeJsonAtomic(file, rows);
  return file;
}
