// Tokenizing for the editor, in the worker so a huge selection never blocks the extension host: the exact
// count always, spans (UTF-16 offsets) and bytes for at most `maxSpans` tokens.
import { TokenWindows, encodeCorpus, loadCorpus } from '../core/data';
import { getTokenizer } from '../core/tokenizer';
import { loadTokenizerSync } from '../core/tokenizer/files';
import type { ParamsOf, ResultOf } from '../protocol/worker';

/** How a user of the extension reads a larger file: the advice added to a file skipped for its size. */
export const SIZE_HINT = 'raise the llmLab.pretrain.maxFileBytes setting';

export function tokenizeText(params: ParamsOf<'tokenize'>): ResultOf<'tokenize'> {
  const tok = params.tokenizerDir !== undefined ? loadTokenizerSync(params.tokenizerDir) : getTokenizer(params.encoding);
  if (params.maxSpans === 0) return { count: tok.encode(params.text).length, spans: [], truncated: false };
  const t = tok.tokenize(params.text);
  const n = Math.min(params.maxSpans, t.ids.length);
  const spans = [];
  for (let i = 0; i < n; i++) {
    const [start, end] = t.spans[i];
    spans.push({ id: t.ids[i], start, end, bytes: Array.from(tok.tokenBytes(t.ids[i])) });
  }
  return { count: t.ids.length, spans, truncated: t.ids.length > n };
}

/** Reads the corpus files as training will, and counts its tokens (GPT-2, documents separated by <|endoftext|>). */
export async function scanCorpus(params: ParamsOf<'corpus/scan'>, signal: AbortSignal): Promise<ResultOf<'corpus/scan'>> {
  if (params.files.length === 0) return { files: [], skipped: [], tokens: 0 };
  const corpus = await loadCorpus(params.files, { maxFileBytes: params.maxFileBytes, sizeHint: SIZE_HINT, signal });
  const ids = corpus.files.length ? await encodeCorpus(corpus.text, getTokenizer('gpt2'), { signal }) : new Int32Array(0);
  return { files: corpus.files, skipped: corpus.skipped, tokens: ids.length };
}

let lastCorpus: { key: string; ids: Int32Array } | undefined;

/** Windows `offset..offset+count` of the corpus; the encoded corpus is kept for the next page. */
export async function previewData(params: ParamsOf<'data/preview'>, signal: AbortSignal): Promise<ResultOf<'data/preview'>> {
  const key = JSON.stringify([params.files, params.maxFileBytes]);
  const tok = getTokenizer('gpt2');
  if (lastCorpus?.key !== key) {
    const corpus = await loadCorpus(params.files, { maxFileBytes: params.maxFileBytes, sizeHint: SIZE_HINT, signal });
    lastCorpus = { key, ids: await encodeCorpus(corpus.text, tok, { signal }) };
  }
  const windows = new TokenWindows(lastCorpus.ids, params.maxLength, params.stride);
  const out: ResultOf<'data/preview'>['windows'] = [];
  const piece = (id: number) => tok.decode([id]);
  for (let i = params.offset; i < Math.min(windows.count, params.offset + params.count); i++) {
    const inputIds = Array.from(windows.input(i));
    const targetIds = Array.from(windows.target(i));
    out.push({ index: i, inputIds, targetIds, inputTokens: inputIds.map(piece), targetTokens: targetIds.map(piece) });
  }
  return { totalTokens: lastCorpus.ids.length, totalWindows: windows.count, windows: out };
}
