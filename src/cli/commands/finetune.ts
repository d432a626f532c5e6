// `llm-lab finetune <task>`: fine-tuning commands grouped under one name; each task is its own command with its
// own flags and help (`llm-lab finetune instruct --help`).
import type { Command } from '../command';
import { finetuneInstructCommand } from './finetuneInstruct';

export const finetuneCommand: Command = {
  name: 'finetune',
  summary: 'Fine-tune a GPT: instruct (instruction data), optionally with LoRA adapters.',
  usage: 'finetune <task> [flags]',
  description: "Run 'llm-lab finetune <task> --help' for a task's flags.",
  options: {},
  subcommands: [finetuneInstructCommand],
  examples: ['llm-lab finetune instruct --model models/gpt2 --data samples/instruction-data.json --out runs/instruct'],
  run: () => Promise.resolve(0),
};
