// Which model inline completions use, and how the status bar names it. The setting holds a model or run
// folder, absolute or relative to the workspace; empty means the model chosen with Select Model.
// Pure: no `vscode`, unit-tested.
import { basename, dirname, isAbsolute, resolve } from 'node:path';

export function completionModelDir(setting: string, workspaceRoot: string | undefined, selected: string | undefined): string | undefined {
  const s = setting.trim();
  if (!s) return selected;
  if (isAbsolute(s)) return s;
  return workspaceRoot ? resolve(workspaceRoot, s) : undefined;
}

/** `<run>/checkpoints/step-000120` → "run (step 120)"; a run or model folder by its own name. */
export function modelLabel(dir: string): string {
  const step = /^step-0*(\d+)$/.exec(basename(dir));
  if (step && basename(dirname(dir)) === 'checkpoints') return `${basename(dirname(dirname(dir)))} (step ${step[1]})`;
  return basename(dir);
}
