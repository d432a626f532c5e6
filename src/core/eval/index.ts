// Evaluation: loss and perplexity of a model on a text.
export type { EvalOptions, EvalResult, EvalTokenizer } from './evaluate';
export { evalWindows, evaluateIds, evaluateText } from './evaluate';
