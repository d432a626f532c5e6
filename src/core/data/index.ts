// The data pipeline's public face: corpus loading, token windows, train/validation split and batch sampling.
export type { Corpus, CorpusOptions } from './corpus';
export { DEFAULT_MAX_FILE_BYTES, DOCUMENT_SEPARATOR, loadCorpus, readTextDocument } from './corpus';
export type { EncodeCorpusOptions, PreparedTokens, PreviewPair } from './dataset';
export { encodeCorpus, nextTokenSteps, prepareTokens, previewPairs, splitTokens, TokenWindows } from './dataset';
export type { Batch, SamplerOptions, SamplerState } from './sampler';
export { BatchSampler, sequentialBatches } from './sampler';
