// Builds the Data tab's answer from a token stream with core's sliding windows: for a max length and
// stride, the windows from `offset` on with their input and target ids and each token's text. The
// extension's backend calls this on the encoded training corpus (loadCorpus + encodeCorpus).
import { TokenWindows } from '../../core/data';
import { LlmLabError } from '../../core/errors';
import type { Tokenizer } from '../../core/tokenizer';
import type { DataPreview } from '../../protocol/panel';
import type { DataQuery } from './backend';

export function buildDataPreview(ids: Int32Array, tokenizer: Tokenizer, q: DataQuery, source?: string): Omit<DataPreview, 'requestId'> {
  const windows = new TokenWindows(ids, q.maxLength, q.stride);
  if (windows.count === 0) {
    throw new LlmLabError('bad-data', `The training data has ${ids.length} tokens, too few for one window of ${q.maxLength}; lower the max length or add data.`);
  }
  if (q.offset >= windows.count) {
    throw new LlmLabError('bad-argument', `There are ${windows.count} windows; choose a first window below ${windows.count}.`);
  }
  const text = (id: number) => tokenizer.decode([id]);
  const out: DataPreview['windows'] = [];
  for (let i = q.offset; i < Math.min(windows.count, q.offset + q.count); i++) {
    const inputIds = Array.from(windows.input(i));
    const targetIds = Array.from(windows.target(i));
    out.push({ index: i, inputIds, targetIds, inputTokens: inputIds.map(text), targetTokens: targetIds.map(text) });
  }
  return { ...(source ? { source } : {}), maxLength: q.maxLength, stride: q.stride, totalTokens: ids.length, totalWindows: windows.count, offset: q.offset, windows: out };
}
