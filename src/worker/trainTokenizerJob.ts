// Training a tokenizer for the extension: core's BPE trainer on the corpus files, its progress pushed to the
// host, the files saved (never over an existing tokenizer), and the compression beside GPT-2's.
import { loadCorpus } from '../core/data';
import { getTokenizer, tokenizerFromVocab } from '../core/tokenizer';
import { vocabOfModel } from '../core/tokenizer/bpeModel';
import { measureCompression } from '../core/tokenizer/compression';
import { checkTokenizerTarget, saveTokenizer } from '../core/tokenizer/files';
import { trainBpe } from '../core/tokenizer/train';
import type { ParamsOf, ResultOf } from '../protocol/worker';
import type { JobContext } from './server';

export async function trainTokenizerJob(params: ParamsOf<'tokenizer/train'>, ctx: JobContext): Promise<ResultOf<'tokenizer/train'>> {
  await checkTokenizerTarget(params.outDir);
  const corpus = await loadCorpus(params.files, { maxFileBytes: params.maxFileBytes, signal: ctx.signal });
  const started = Date.now();
  const r = await trainBpe(corpus.documents, {
    vocabSize: params.vocabSize,
    pattern: params.pattern,
    name: params.name,
    signal: ctx.signal,
    onProgress: (p) => ctx.notify('tokenizer/didProgress', p),
  });
  const seconds = (Date.now() - started) / 1000;
  const files = await saveTokenizer(params.outDir, r.model);
  const trained = tokenizerFromVocab(vocabOfModel(r.model, files[0]));
  const [mine, gpt2] = await measureCompression(corpus.documents, [trained, getTokenizer('gpt2')], ctx.signal);
  const pick = (c: typeof mine) => ({ tokens: c.tokens, chars: c.chars, tokensPerChar: c.tokensPerChar });
  return {
    outDir: params.outDir,
    vocabSize: trained.vocabSize,
    merges: r.model.merges.length,
    files: corpus.files.length,
    skipped: corpus.skipped.length,
    seconds,
    trained: pick(mine),
    gpt2: pick(gpt2),
  };
}
