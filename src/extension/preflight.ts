// Checks made before a training run writes anything: will the model fit in memory, is the corpus longer
// than one context window. Pure (no `vscode`): unit-tested; the pretrain command turns them into messages.
import { totalmem } from 'node:os';
import { estimateMemory } from '../core/model/config';
import type { GptConfig } from '../core/model/config';

/** Whether a training of this config and batch fits: under 80% of the machine's memory. */
export function memoryCheck(config: GptConfig, batchSize: number, machineBytes = totalmem()): { needed: number; fits: boolean } {
  const needed = estimateMemory(config, batchSize).trainingBytes;
  return { needed, fits: needed <= 0.8 * machineBytes };
}

/** Tokens a corpus needs for one training window (inputs plus the shifted target). */
export function minimumTokens(contextLength: number): number {
  return contextLength + 1;
}
