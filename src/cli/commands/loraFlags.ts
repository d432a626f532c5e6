// The LoRA flags of the fine-tuning commands (--lora-rank, --lora-alpha, --lora-targets) and the options they
// give the library: adapters of that rank beside the frozen base, alpha defaulting to the rank, every linear layer
// adapted unless --lora-targets says which.
import type { FlagValues, OptionSpecs } from '../args';
import { int, num, str } from '../args';
import { LlmLabError } from '../../core/errors';
import type { LoraTrainOptions } from '../../core/lora';
import { LORA_TARGETS, parseLoraTargets } from '../../core/lora';

export const LORA_OPTIONS: OptionSpecs = {
  'lora-rank': { type: 'string', value: 'R', help: 'Train LoRA adapters of rank R instead of the weights (the base stays frozen).' },
  'lora-alpha': { type: 'string', value: 'A', help: 'LoRA alpha: the adapters’ output is scaled by alpha/rank (default: the rank).' },
  'lora-targets': { type: 'string', value: 'T', help: `Adapted layers, a comma list of ${LORA_TARGETS.join(', ')} (or all, qkv; default all).` },
};

/** The LoRA options the flags ask for; undefined without --lora-rank (which the other two need). */
export function loraFromFlags(values: FlagValues, command: string): LoraTrainOptions | undefined {
  const rank = int(values, 'lora-rank', 1);
  const alpha = num(values, 'lora-alpha', 0, Infinity, true);
  const targets = str(values, 'lora-targets');
  if (rank === undefined) {
    if (alpha !== undefined || targets !== undefined) throw new LlmLabError('bad-argument', `--lora-alpha and --lora-targets need --lora-rank R; see 'llm-lab ${command} --help'.`);
    return undefined;
  }
  return { rank, ...(alpha !== undefined ? { alpha } : {}), ...(targets !== undefined ? { targets: parseLoraTargets(targets) } : {}) };
}
