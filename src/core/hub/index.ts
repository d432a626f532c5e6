// Models from the Hugging Face hub: GPT-2 downloads into a local cache, resumable and verified.
export { DEFAULT_HUB, MODEL_FILES, downloadModel, fileMetadata, hubBaseUrl, listDownloadedModels, modelCacheDir } from './hub';
export type { DownloadModelOptions, DownloadModelResult, DownloadProgress, DownloadedFile, DownloadedModel } from './hub';
export { GPT2_MODELS, GPT2_MODEL_NAMES, isGpt2ModelName } from './models';
export type { Gpt2ModelName } from './models';
export { fetchFile, partialPath } from './fetchFile';
export type { Expected, FetchFileOptions, FetchFileResult, FetchProgress } from './fetchFile';
