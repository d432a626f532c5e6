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
  /** Commands under this one (`llm-lab finetune classify`): the first word after the name picks one; `run` is not called. */
  subcommands?: Command[];
  /** Returns the exit code (0 when it returns nothing). */
  run(ctx: CommandContext): Promise<number | void>;
}

/** The --help text of a command with subcommands: their list. */
function groupHelp(c: Command): string {
  const subs = c.subcommands ?? [];
  const width = Math.max(...subs.map((s) => s.name.length)) + 2;
  const lines = [`Usage: llm-lab ${c.usage}`, '', c.summary];
  if (c.description) lines.push('', c.description);
  lines.push('', 'Commands:', ...subs.map((s) => `  ${s.name.padEnd(width)}${s.summary}`));
  lines.push('', `Run 'llm-lab ${c.name} <command> --help' for a command's flags and examples.`);
  if (c.examples.length) lines.push('', 'Examples:', ...c.examples.map((e) => `  ${e}`));
  return lines.join('\n') + '\n';
}

/** The --help text of a command. */
export function commandHelp(c: Command): string {
  if (c.subcommands) return groupHelp(c);
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
  if (c.examples.length) lines.push('', 'Examples:', ...c.examples.map((e) => `  ${e}`));
  return lines.join('\n') + '\n';
}
