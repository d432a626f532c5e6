// Finds the files Pretrain on Workspace may train on: the include globs through VS Code's file search
// (so files.exclude applies), minus the exclude setting, .gitignore'd paths and the runs folder.
import * as vscode from 'vscode';
import { relative, sep } from 'node:path';
import { GitignoreRules } from './gitignore';

const MAX_FILES = 5000;

function braces(globs: string[]): string {
  const clean = globs.map((g) => g.trim()).filter(Boolean);
  return clean.length === 1 ? clean[0] : `{${clean.join(',')}}`;
}

/** Absolute paths of matching files, sorted; `runsFolder` is never included. */
export async function findCorpusFiles(
  folder: vscode.WorkspaceFolder,
  include: string[],
  exclude: string[],
  runsFolder: string | undefined,
  token?: vscode.CancellationToken,
): Promise<string[]> {
  const filesExclude = vscode.workspace.getConfiguration('files', folder.uri).get<Record<string, unknown>>('exclude', {});
  const excludes = [...Object.keys(filesExclude).filter((k) => filesExclude[k] === true), ...exclude];
  const excludeGlob = excludes.length ? braces(excludes) : undefined;
  const found = await vscode.workspace.findFiles(new vscode.RelativePattern(folder, braces(include)), excludeGlob, MAX_FILES, token);
  const ignoreFiles = await vscode.workspace.findFiles(new vscode.RelativePattern(folder, '**/.gitignore'), excludeGlob, 500, token);
  const rules = new GitignoreRules();
  for (const f of ignoreFiles) {
    const base = relative(folder.uri.fsPath, f.fsPath).split(sep).slice(0, -1).join('/');
    rules.add(base, Buffer.from(await vscode.workspace.fs.readFile(f)).toString('utf8'));
  }
  return found
    .map((u) => u.fsPath)
    .filter((p) => {
      const rel = relative(folder.uri.fsPath, p).split(sep).join('/');
      if (runsFolder && !relative(runsFolder, p).startsWith('..')) return false;
      return !rules.ignores(rel);
    })
    .sort();
}
