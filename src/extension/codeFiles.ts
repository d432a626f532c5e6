// Whether the files a run trains on are source code, by their extension: Pretrain on Workspace then offers
// fill-in-the-middle training, which inline completions use to see the text after the cursor.
// Pure: no `vscode`, unit-tested.
import { extname } from 'node:path';

const CODE_EXTENSIONS = new Set([
  'c', 'h', 'cc', 'cpp', 'cxx', 'hpp', 'cs', 'go', 'rs', 'java', 'kt', 'kts', 'scala', 'swift', 'm', 'mm',
  'js', 'jsx', 'mjs', 'cjs', 'ts', 'tsx', 'mts', 'cts', 'py', 'pyi', 'rb', 'php', 'pl', 'lua', 'r', 'jl', 'dart',
  'sh', 'bash', 'zsh', 'ps1', 'sql', 'hs', 'ml', 'ex', 'exs', 'erl', 'clj', 'fs', 'vue', 'svelte', 'css', 'scss',
]);

export function isCodeFile(file: string): boolean {
  return CODE_EXTENSIONS.has(extname(file).slice(1).toLowerCase());
}

/** How many of the files are source code. */
export function countCodeFiles(files: readonly string[]): number {
  return files.filter(isCodeFile).length;
}
