// The text after the cursor versus a suggestion: a suggestion that only repeats what already follows the
// cursor is dropped, and the end of a suggestion that the text after the cursor already holds (a closing
// bracket, the rest of a line) is trimmed, so accepting it never doubles text.

/** True when all the suggestion says is already right after the cursor (ignoring leading whitespace). */
export function repeatsSuffix(completion: string, suffix: string): boolean {
  if (completion.trim() === '') return true;
  return suffix.startsWith(completion) || suffix.trimStart().startsWith(completion.trimStart());
}

/**
 * Removes from the end of `completion` the longest piece that the suffix starts with, when that piece holds
 * more than whitespace: `foo(a, b)` before `)` becomes `foo(a, b`.
 */
export function trimDuplicatedSuffix(completion: string, suffix: string): string {
  for (let k = Math.min(completion.length, suffix.length); k >= 1; k--) {
    const head = suffix.slice(0, k);
    if (head.trim() !== '' && completion.endsWith(head)) return completion.slice(0, completion.length - k).trimEnd();
  }
  return completion;
}

/** The suggestion to show given the text after the cursor: '' when nothing new is left. */
export function fitToSuffix(completion: string, suffix: string): string {
  if (repeatsSuffix(completion, suffix)) return '';
  const trimmed = trimDuplicatedSuffix(completion, suffix);
  return repeatsSuffix(trimmed, suffix) ? '' : trimmed;
}
