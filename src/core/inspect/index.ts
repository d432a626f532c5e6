// Looking inside a model: attention maps and vital statistics.
export type { AttentionMaps, InspectTokenizer } from './attention';
export { attentionMaps } from './attention';
export type { ModelInfo } from './modelInfo';
export { DEFAULT_INFO_BATCH, modelInfo } from './modelInfo';
