// Checkpoints: Hugging Face style model folders (config.json + model.safetensors) and the resumable training
// checkpoints of a run folder. See README "Training and checkpoints" for the layout.
export { saveModel, loadModel, loadModelFrom, requireLanguageModel, findCheckpoint, listCheckpoints, stepDirName, writeModelFiles, isModelFolder, checkpointStep } from './modelFiles';
export { modelEncoding, modelTokenizer } from './modelTokenizer';
export type { LoadedModel } from './modelFiles';
export { CONFIG_FILE, WEIGHTS_FILE, CHECKPOINTS_DIR } from './modelFiles';
export { saveTrainingCheckpoint, loadTrainingState, STATE_JSON_FILE, STATE_TENSORS_FILE } from './trainingState';
export type { SaveTrainingCheckpointOptions, LoadedTrainingState } from './trainingState';
export { toHfConfig, fromHfConfig, CHECKPOINT_FORMAT_VERSION } from './hfConfig';
export type { LlmLabMeta } from './hfConfig';
export { readSafetensors, readSafetensorsHeader, writeSafetensors } from './safetensors';
export type { LoadedTensor, TensorEntry, TensorToWrite, SafetensorsHeader } from './safetensors';
export { writeDirAtomic, writeFileAtomic, writeJsonAtomic } from './atomic';
