// Reading a labelled data file from disk by the same rules as training data (size cap, UTF-8, not binary).
import * as path from 'node:path';
import { DEFAULT_MAX_FILE_BYTES, readTextDocument } from '../data';
import { LlmLabError } from '../errors';
import type { ReadData, ReadOptions } from './records';
import { parseClassificationData } from './records';

/** Reads and parses a TSV, CSV or JSONL file of labelled texts; every problem names the file (and line). */
export async function readClassificationFile(file: string, opts: ReadOptions & { maxFileBytes?: number } = {}): Promise<ReadData> {
  const abs = path.resolve(file);
  const doc = await readTextDocument(abs, opts.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES, 'raise the size cap (--max-file-mb)');
  if (typeof doc === 'string') throw new LlmLabError('bad-data', `Data file ${abs} cannot be used: ${doc}.`);
  return parseClassificationData(abs, doc.text, opts);
}
