// `llm-lab`: dispatches to a command, prints help, and turns every failure into one line on stderr: an
// LlmLabError is a user mistake (its message, exit 1); a cancel exits 130; anything else is an internal
// error (a short line and a hint to rerun with --debug for the stack, exit 2).
import { fileSystemError, isLlmLabError } from '../core/errors';
import { parseFlags } from './args';
import type { Command } from './command';
import { commandHelp } from './command';
import { askCommand } from './commands/ask';
import { classifyCommand } from './commands/classify';
import { demoCommand } from './commands/demo';
import { downloadCommand } from './commands/download';
import { evalCommand } from './commands/eval';
import { finetuneCommand } from './commands/finetune';
import { generateCommand } from './commands/generate';
import { infoCommand } from './commands/info';
import { loraCommand } from './commands/lora';
import { pretrainCommand } from './commands/pretrain';
import { tokenizeCommand } from './commands/tokenize';
import { tokenizerCommand } from './commands/tokenizer';
import type { CliIo } from './io';
import { println } from './io';

export const VERSION = '0.1.0';

export const COMMANDS: Command[] = [tokenizeCommand, tokenizerCommand, pretrainCommand, finetuneCommand, classifyCommand, generateCommand, evalCommand, askCommand, infoCommand, downloadCommand, loraCommand, demoCommand];

export function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length)) + 2;
  return [
    'Usage: llm-lab <command> [flags]',
    '',
    'Build, train and inspect GPT-style language models from scratch.',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    '',
    "Run 'llm-lab <command> --help' for a command's flags and examples.",
    'Every command takes --json (machine-readable output) and --debug (stack traces of internal errors).',
  ].join('\n') + '\n';
}

/** Runs the CLI on `argv` (without node and the script) and returns the exit code. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const debug = argv.includes('--debug');
  try {
    const [name, ...rest] = argv;
    if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
      const target = name === 'help' ? COMMANDS.find((c) => c.name === rest[0]) : undefined;
      if (name === 'help' && rest[0] !== undefined && !target) return unknownCommand(rest[0], io);
      io.stdout.write(target ? commandHelp(target) : mainHelp());
      return 0;
    }
    if (name === '--version' || name === '-v') {
      println(io.stdout, VERSION);
      return 0;
    }
    let command = COMMANDS.find((c) => c.name === name);
    if (!command) return unknownCommand(name, io);
    let label = command.name;
    if (command.subcommands) {
      const [subName, ...subRest] = rest;
      if (subName === undefined || subName === '--help' || subName === '-h' || subName === 'help') {
        io.stdout.write(commandHelp(command));
        return 0;
      }
      const sub = command.subcommands.find((c) => c.name === subName);
      if (!sub) {
        const list = command.subcommands.map((c) => c.name).join(', ');
        println(io.stderr, `llm-lab: unknown command '${command.name} ${subName}'; '${command.name}' takes one of: ${list}. Run 'llm-lab ${command.name} --help'.`);
        return 1;
      }
      label = `${command.name} ${sub.name}`;
      command = sub;
      rest.splice(0, rest.length, ...subRest);
    }
    const { values, positionals } = parseFlags(label, command.options, rest, command.positionals ?? false);
    if (values.help === true) {
      io.stdout.write(commandHelp(command));
      return 0;
    }
    const code = await command.run({ values, positionals, io, json: values.json === true });
    return code ?? 0;
  } catch (caught) {
    const e = fileSystemError(caught) ?? caught;
    if (isLlmLabError(e)) {
      if (e.code === 'cancelled') {
        println(io.stderr, `llm-lab: ${e.message}`);
        return 130;
      }
      println(io.stderr, `llm-lab: ${e.message}`);
      return 1;
    }
    const what = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    println(io.stderr, `llm-lab: internal error (${what.split('\n')[0]}).${debug ? '' : ' Rerun with --debug for the stack trace.'}`);
    if (debug && e instanceof Error && e.stack) println(io.stderr, e.stack);
    return 2;
  }
}

function unknownCommand(name: string, io: CliIo): number {
  const near = COMMANDS.find((c) => c.name.startsWith(name.slice(0, 3)));
  const hint = near ? ` Did you mean '${near.name}'?` : '';
  println(io.stderr, `llm-lab: unknown command '${name}'.${hint} Run 'llm-lab --help' for the list.`);
  return 1;
}
