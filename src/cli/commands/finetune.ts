// `llm-lab finetune`: the fine-tuning commands, one per task (`finetune classify`, …); each is a command of its
// own with its flags and help, picked by the word after `finetune`.
import type { Command } from '../command';
import { finetuneClassifyCommand } from './finetuneClassify';
import { finetuneInstructCommand } from './finetuneInstruct';

/** The fine-tuning tasks, each a command. */
export const FINETUNE_COMMANDS: Command[] = [finetuneClassifyCommand, finetuneInstructCommand];

export const finetuneCommand: Command = {
  name: 'finetune',
  summary: 'Fine-tune a GPT for a task (classify, instruct) into a run folder.',
  usage: 'finetune <task> [flags]',
  description: 'Runs like pretrain: a progress bar, checkpoints, Ctrl-C stops cleanly with a checkpoint and --resume continues.',
  options: {},
  subcommands: FINETUNE_COMMANDS,
  examples: [
    'llm-lab finetune classify --preset small --data samples/SMSSpamCollection.tsv --balance --trainable all --out runs/spam',
    'llm-lab finetune instruct --model models/gpt2 --data samples/instruction-data.json --out runs/instruct --lora-rank 16',
  ],
  async run() {
    return 0; // never called: a task's command runs instead
  },
};
