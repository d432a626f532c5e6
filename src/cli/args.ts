// Flags of the CLI: each command declares its options; parsing is node:util's parseArgs in strict mode, with
// its errors turned into one-line LlmLabErrors that name the flag and the command's --help, and helpers that
// read numbers and choices with a message saying what the value must be.
import { parseArgs } from 'node:util';
import { LlmLabError } from '../core/errors';

export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  /** May be given more than once (values collect into a list). */
  multiple?: boolean;
  /** Placeholder shown in --help, e.g. 'N' or 'DIR'. */
  value?: string;
  help: string;
}

export type OptionSpecs = Record<string, OptionSpec>;
export type FlagValues = Record<string, string | boolean | string[] | undefined>;

/** Options every command takes. */
export const COMMON_OPTIONS: OptionSpecs = {
  help: { type: 'boolean', short: 'h', help: 'Show this help.' },
  json: { type: 'boolean', help: 'Print machine-readable JSON on stdout.' },
  debug: { type: 'boolean', help: 'Print the stack trace of an internal error.' },
};

function bad(message: string): LlmLabError {
  return new LlmLabError('bad-argument', message);
}

/** Parses argv against the command's options; positionals are allowed only when `positionals` is true. */
export function parseFlags(command: string, specs: OptionSpecs, argv: string[], positionals: boolean): { values: FlagValues; positionals: string[] } {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {};
  for (const [name, s] of Object.entries({ ...COMMON_OPTIONS, ...specs })) {
    options[name] = { type: s.type, ...(s.short ? { short: s.short } : {}), ...(s.multiple ? { multiple: true } : {}) };
  }
  const see = `see 'llm-lab ${command} --help'`;
  try {
    const r = parseArgs({ args: argv, options, strict: true, allowPositionals: positionals });
    return { values: r.values as FlagValues, positionals: r.positionals };
  } catch (e) {
    const code = (e as { code?: string }).code;
    const msg = e instanceof Error ? e.message : String(e);
    const flag = /'(-[^' ]+)/.exec(msg)?.[1] ?? '';
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') throw bad(`Unknown flag ${flag} for 'llm-lab ${command}'; ${see}.`);
    if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
      const word = /'([^']*)'/.exec(msg)?.[1] ?? '';
      throw bad(`Unexpected argument '${word}' for 'llm-lab ${command}' (it takes flags only); ${see}.`);
    }
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
      if (/argument missing/.test(msg)) throw bad(`Flag ${flag} needs a value; ${see}.`);
      if (/ambiguous/.test(msg)) {
        throw bad(`Flag ${flag} needs a value, and one starting with '-' must be written ${flag}=VALUE; ${see}.`);
      }
      throw bad(`Flag ${flag} takes no value; ${see}.`);
    }
    throw bad(`${msg}; ${see}.`);
  }
}

/** A string flag's value (the last one when given twice). */
export function str(values: FlagValues, name: string): string | undefined {
  const v = values[name];
  if (Array.isArray(v)) return v[v.length - 1];
  return typeof v === 'string' ? v : undefined;
}

/** A list flag's values (empty when not given). */
export function list(values: FlagValues, name: string): string[] {
  const v = values[name];
  if (Array.isArray(v)) return v;
  return typeof v === 'string' ? [v] : [];
}

export function bool(values: FlagValues, name: string): boolean {
  return values[name] === true;
}

/** How numbers are written on the command line: decimal digits, an optional sign, fraction and exponent. No hex
 *  (0x10), binary or octal forms, no Infinity, no surrounding spaces: Number() would take all of those. */
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;
const WHOLE = /^[+-]?\d+$/;

/** A whole-number flag in [min, max], or undefined when not given. */
export function int(values: FlagValues, name: string, min = 0, max = Number.MAX_SAFE_INTEGER): number | undefined {
  const raw = str(values, name);
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!WHOLE.test(raw) || !Number.isInteger(n) || n < min || n > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `≥ ${min}` : `from ${min} to ${max}`;
    throw bad(`--${name} must be a whole number ${range}, got '${raw}'.`);
  }
  return n;
}

/** A number flag in [min, max] (`exclusiveMin` makes the lower end open), or undefined when not given. */
export function num(values: FlagValues, name: string, min: number, max: number, exclusiveMin = false): number | undefined {
  const raw = str(values, name);
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!DECIMAL.test(raw) || !Number.isFinite(n) || n < min || n > max || (exclusiveMin && n === min)) {
    const range = `${exclusiveMin ? 'above' : 'from'} ${min}${Number.isFinite(max) ? ` ${exclusiveMin ? 'up ' : ''}to ${max}` : ''}`;
    throw bad(`--${name} must be a number ${range}, got '${raw}'.`);
  }
  return n;
}

/** A flag that must be one of `choices`, or undefined when not given. */
export function choice<T extends string>(values: FlagValues, name: string, choices: readonly T[]): T | undefined {
  const raw = str(values, name);
  if (raw === undefined) return undefined;
  if (!(choices as readonly string[]).includes(raw)) throw bad(`--${name} must be one of ${choices.join(', ')}; got '${raw}'.`);
  return raw as T;
}

/** A required string flag. */
export function required(values: FlagValues, command: string, name: string, what: string): string {
  const v = str(values, name);
  if (v === undefined || v === '') throw bad(`'llm-lab ${command}' needs --${name} ${what}; see 'llm-lab ${command} --help'.`);
  return v;
}
