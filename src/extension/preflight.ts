// Checks made before a training run writes anything: will the model fit in memory, is the corpus longer
// than one context window. Pure (no `vscode`): unit-tested; the pretrain command turns them into messages.
export { memoryCheck } from '../core/model/memory';

/** Tokens a corpus needs for one training window (inputs plus the shifted target). */
export function minimumTokens(contextLength: number): number {
  return contextLength + 1;
}
