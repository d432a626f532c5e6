// Classification fine-tuning (the book's chapter 6): labelled data read and split, a GPT body with a class
// head on the last real token, training through the shared loop, the Hugging Face classifier layout, prediction.
export { DATA_FORMATS, detectFormat, parseClassificationData, sortLabels, splitDelimited } from './records';
export type { DataFormat, LabelledText, ReadData, ReadOptions } from './records';
export { encodeTexts, fingerprintRows, padRows, splitRows, splitSizes } from './dataset';
export type { EncodedRows, SplitOptions, SplitRows } from './dataset';
export { Classifier, SCORE_WEIGHT, countTrainable, isTrainableChoice } from './model';
export type { ClassBatch, TrainableChoice } from './model';
export { CLASSIFIER_ARCHITECTURE, isClassifierFolder, loadClassifier, loadClassifierWeights, writeClassifierFiles } from './files';
export type { ClassifierMeta, LoadedClassifier, LoadedClassifierWeights } from './files';
export { CLASSIFY_DEFAULTS, CLASSIFY_RESUME_MUTABLE, classifyRunRule, resolveClassifyOptions } from './options';
export type { ClassifyOptions, ResolvedClassifyOptions } from './options';
export { finetuneClassifier, planClassifier, RowSampler, RUN_BASE_DIR } from './finetune';
export type { ClassifierPlan, ClassifierResult, ClassifierTest } from './finetune';
export { scoreRows } from './evaluate';
export type { RowScores } from './evaluate';
export { classify, evaluateClassifier } from './predict';
export type { ClassifierEvaluation, Prediction, PredictOptions } from './predict';
export { readClassificationFile } from './read';
export {
  adaptsHead, classifierHead, classifierInfoOf, classifierLoraCount, effectiveHead, exportClassifierPeft, importClassifierPeft, isPeftClassifier,
  loadAdaptedClassifier, loadClassifierBody, mergeClassifier,
} from './lora';
export type { ClassifierAdapterInfo, LoadedAdaptedClassifier } from './lora';
export { mergeClassifierAdapter } from './merge';
