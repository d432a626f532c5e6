// Checks made before a training run writes anything: will the model fit in memory (core's rule, the same the
// CLI and model loading apply), is the corpus longer than one context window. Pure (no `vscode`): unit-tested;
// the pretrain command turns them into messages.
export { memoryCheck } from '../core/model/config';

/** Tokens a corpus needs for one training window (inputs plus the shifted target). */
export function minimumTokens(contextLength: number): number {
  return contextLength + 1;
}
