// When an inline completion ends. Single-line mode: at the end of the line. Multi-line mode: at a blank
// line, at a line indented less than the line the cursor is on, or after `maxLines` lines. Generation also
// ends at <|endoftext|> and at the token limit. The rules read the text generated so far, so the worker can
// stop as soon as a rule fires instead of computing tokens that would be thrown away.

import type { CompletionMode, StopReason } from '../../protocol/completion';

export type { CompletionMode, StopReason } from '../../protocol/completion';

export interface StopRules {
  mode: CompletionMode;
  /** Lines a multi-line completion may span (the rest of the cursor's line counts as the first). */
  maxLines: number;
  /** Leading whitespace of the cursor's line; a later line indented less ends the completion. */
  indent: string;
  /** Columns of a tab when comparing indentation. Default 4. */
  tabSize?: number;
}

/** Leading whitespace of the last line of `prefix` (the line the cursor is on). */
export function cursorIndent(prefix: string): string {
  const line = prefix.slice(prefix.lastIndexOf('\n') + 1);
  return /^[ \t]*/.exec(line)![0];
}

function width(ws: string, tabSize: number): number {
  let w = 0;
  for (const ch of ws) w += ch === '\t' ? tabSize - (w % tabSize) : 1;
  return w;
}

export interface StopCut {
  /** The text to keep (trailing whitespace removed once stopped). */
  text: string;
  /** Set when a rule fired. */
  stop?: StopReason;
}

/**
 * Applies the rules to `text`, generated so far. `ended` says generation is over, so the last line is whole.
 * Returns the kept text and the rule that fired, if any.
 */
export function cutAtStop(text: string, rules: StopRules, ended = false): StopCut {
  const lines = text.split('\n');
  const keep = (n: number, stop: StopReason): StopCut => ({ text: lines.slice(0, n).join('\n').trimEnd(), stop });
  if (rules.mode === 'line') return lines.length > 1 ? keep(1, 'newline') : { text: ended ? text.trimEnd() : text };
  const tab = rules.tabSize ?? 4;
  const start = width(rules.indent, tab);
  for (let i = 1; i < lines.length; i++) {
    if (i >= rules.maxLines) return keep(i, 'max-lines');
    const line = lines[i];
    const whole = i < lines.length - 1 || ended;
    if (line.trim() === '') {
      if (whole && i < lines.length - 1) return keep(i, 'blank-line');
      continue;
    }
    // Indentation is known as soon as the line shows a character that is not whitespace.
    if (width(/^[ \t]*/.exec(line)![0], tab) < start) return keep(i, 'dedent');
  }
  return { text: ended ? text.trimEnd() : text };
}
