// The shapes of an inline completion that every side shares: its modes and the reasons it ends. Declared
// once as runtime checkers; core's completion, the worker protocol and the extension take their types here.
import type { Infer } from './validate';
import { literal } from './validate';

/** Single-line (the rest of the line) or multi-line (a block) suggestions. */
export const completionMode = literal('line', 'block');
export type CompletionMode = Infer<typeof completionMode>;

/** Why a completion ended; `duplicate`: all it said was already after the cursor. */
export const stopReason = literal('eot', 'max-tokens', 'newline', 'blank-line', 'dedent', 'max-lines', 'duplicate');
export type StopReason = Infer<typeof stopReason>;
