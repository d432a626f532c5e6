// Models from the Hugging Face hub: GPT-2 downloads into a local cache, resumable and verified.
export { GPT2_MODELS, GPT2_MODEL_NAMES, DEFAULT_HUB, MODEL_FILES, downloadModel, fileMetadata, hubBaseUrl, isGpt2ModelName, listDownloadedModels, modelCacheDir } from './hub';
export type { DownloadModelOptions, DownloadModelResult, DownloadProgress, DownloadedFile, DownloadedModel, Gpt2ModelName } from './hub';
export { fetchFile, partialPath } from './fetchFile';
export type { Expected, FetchFileOptions, FetchFileResult, FetchProgress } from './fetchFile';
