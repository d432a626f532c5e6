// LoRA (the book's appendix E): adapters beside frozen linear layers, saved apart from their base, merged into
// a plain model, and moved to and from Hugging Face PEFT.
export { LoraAdapters, loraTensorNames, mergedHead, mergeLora, validateLora } from './adapters';
export type { LoraSettings, SiteAdapter } from './adapters';
export { DEFAULT_LORA_TARGETS, LORA_TARGETS, fusedQkvSite, loraParameterCount, loraSites, parseLoraTargets, siteByName } from './targets';
export type { LoraSite, LoraTarget } from './targets';
export {
  ADAPTER_CONFIG_FILE,
  ADAPTER_WEIGHTS_FILE,
  checkBase,
  describeAdapters,
  findAdapterFolder,
  fingerprintModel,
  isAdapterFolder,
  loadAdapted,
  loadAnyModel,
  mergedModelMeta,
  mergedModelTokenizer,
  readAdapterMeta,
  readAdapters,
  readSavedModules,
  saveAdapter,
  writeAdapterFiles,
} from './files';
export type { AdapterMeta, AdapterSummary, LoadedAdapted } from './files';
export { PEFT_CONFIG_FILE, PEFT_WEIGHTS_FILE, exportPeft, importPeft, importPeftWith } from './peft';
export type { PeftExtra, PeftImport, PeftModule } from './peft';
export { attachNewAdapters, attachSavedAdapters, describeBase, loraTaskParams, loraTrainableCount, resolveLoraOptions, writeAdapterCheckpoint } from './training';
export type { LoraBase, LoraHead, LoraTrainOptions, ResolvedLoraOptions } from './training';
