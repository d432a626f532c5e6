// The shape of an `llm-lab` command and the help text made from it.
import type { FlagValues, OptionSpecs } from './args';
import { COMMON_OPTIONS } from './args';
import type { CliIo } from './io';

export interface CommandContext {
  values: FlagValues;
  positionals: string[];
  io: CliIo;
  json: boolean;
}

export interface Command {
  name: string;
  /** One line for the command list. */
  summary: string;
  /** Usage line after `llm-lab `. */
  usage: string;
  /** A paragraph on what it does. */
  description?: string;
  options: OptionSpecs;
  /** Whether bare words (e.g. the text to tokenize) are accepted. */
  positionals?: boolean;
  examples: string[];
  /** A group's commands (`finetune instruct`): the first bare word picks one, named `<group> <sub>`. */
  subcommands?: Command[];
  /** Returns the exit code (0 when it returns nothing). */
  run(ctx: CommandContext): Promise<number | void>;
}

/** The --help text of a command. */
export function commandHelp(c: Command): string {
  const rows = Object.entries({ ...c.options, ...COMMON_OPTIONS }).map(([name, s]) => {
    const flag = `${s.short ? `-${s.short}, ` : ''}--${name}${s.type === 'string' ? ` ${s.value ?? 'VALUE'}` : ''}`;
    return [flag, s.help + (s.multiple ? ' (may repeat)' : '')];
  });
  const width = Math.min(32, Math.max(...rows.map(([f]) => f.length)) + 2);
  const lines = [`Usage: llm-lab ${c.usage}`, '', c.summary];
  if (c.description) lines.push('', c.description);
  lines.push('', 'Options:');
  for (const [flag, help] of rows) {
    lines.push(flag.length + 2 > width ? `  ${flag}\n  ${' '.repeat(width)}${help}` : `  ${flag.padEnd(width)}${help}`);
  }
  if (c.subcommands?.length) {
    const w = Math.max(...c.subcommands.map((s) => s.name.length)) + 2;
    lines.push('', 'Commands:', ...c.subcommands.map((s) => `  ${s.name.padEnd(w)}${s.summary}`));
  }
  if (c.examples.length) lines.push('', 'Examples:', ...c.examples.map((e) => `  ${e}`));
  return lines.join('\n') + '\n';
}
