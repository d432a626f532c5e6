// Reading instruction data: a JSON array of {instruction, input, output} records (the book's
// instruction-data.json) or JSON Lines with one record a line. Every problem is reported with the file and the
// record (and line, for JSON Lines) before any training starts. The split is the book's: the first 85% trains,
// the next 10% tests, the rest (5%) validates, in file order.
import { LlmLabError } from '../errors';
import type { InstructionRecord } from './prompt';

/** Fractions of the book's split; validation gets what is left. */
export const INSTRUCT_SPLIT = { train: 0.85, test: 0.1 } as const;

function bad(where: string, problem: string): LlmLabError {
  return new LlmLabError('bad-data', `${where}: ${problem}; each record needs a string "instruction", an optional string "input" and a string "output".`);
}

/** One record checked; `where` names it in errors ("data.json, record 3"). */
export function toRecord(raw: unknown, where: string): InstructionRecord {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw bad(where, 'is not a JSON object');
  const r = raw as Record<string, unknown>;
  for (const key of ['instruction', 'output'] as const) {
    if (typeof r[key] !== 'string') throw bad(where, r[key] === undefined ? `"${key}" is missing` : `"${key}" is not a string`);
  }
  if (r.input !== undefined && r.input !== null && typeof r.input !== 'string') throw bad(where, '"input" is not a string');
  if ((r.instruction as string).trim() === '') throw bad(where, '"instruction" is empty');
  return { instruction: r.instruction as string, input: (r.input as string | undefined | null) ?? '', output: r.output as string };
}

/** Records of a JSON array or a JSON Lines text; `file` names it in errors. */
export function parseInstructionData(text: string, file: string): InstructionRecord[] {
  const body = text.replace(/^\uFEFF/, '');
  let records: InstructionRecord[];
  if (body.trimStart().startsWith('[')) {
    let raw: unknown;
    try {
      raw = JSON.parse(body);
    } catch (e) {
      throw new LlmLabError('bad-data', `${file} starts like a JSON array but is not valid JSON (${(e as Error).message}); fix the file or write one record a line (JSON Lines).`);
    }
    records = (raw as unknown[]).map((r, i) => toRecord(r, `${file}, record ${i + 1}`));
  } else {
    records = [];
    const lines = body.split(/\r?\n/);
    lines.forEach((line, i) => {
      if (line.trim() === '') return;
      let raw: unknown;
      try {
        raw = JSON.parse(line);
      } catch {
        throw new LlmLabError('bad-data', `${file}, line ${i + 1}: not valid JSON; the file must be a JSON array or one JSON object a line.`);
      }
      records.push(toRecord(raw, `${file}, line ${i + 1}`));
    });
  }
  if (records.length === 0) throw new LlmLabError('bad-data', `${file} holds no records; give a JSON array or JSON Lines of {instruction, input, output}.`);
  return records;
}

export interface InstructionSplit {
  train: InstructionRecord[];
  val: InstructionRecord[];
  test: InstructionRecord[];
}

/**
 * The book's split in file order: floor(n·train) records train, the next floor(n·test) test, the rest validate.
 * 1,100 records give 935 / 55 / 110 (train / validation / test).
 */
export function splitInstructions(
  records: readonly InstructionRecord[],
  fractions: { train: number; test: number } = INSTRUCT_SPLIT,
): InstructionSplit {
  const { train, test } = fractions;
  if (!(train > 0 && test >= 0 && train + test <= 1)) {
    throw new LlmLabError('bad-argument', `The split fractions must satisfy 0 < train and train + test ≤ 1, got train ${train}, test ${test}.`);
  }
  const n = records.length;
  const nTrain = Math.floor(n * train);
  const nTest = Math.floor(n * test);
  if (nTrain === 0) {
    throw new LlmLabError('bad-data', `${n} record(s) leave none for training at a ${train * 100}% training split; give more records.`);
  }
  return {
    train: records.slice(0, nTrain),
    test: records.slice(nTrain, nTrain + nTest),
    val: records.slice(nTrain + nTest),
  };
}
