// Which model inline completions use, and how the status bar names it. The setting holds a model or run
// folder, absolute or relative to the workspace; empty means the model chosen with Select Model.
// Pure: no `vscode`, unit-tested.
import { stat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { ADAPTER_WEIGHTS_FILE, findCheckpoint, WEIGHTS_FILE } from '../../core/checkpoint/layout';

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

/**
 * What answers for a model or run folder right now: the checkpoint folder core would load (a run's latest) and
 * when its weights were written. A run that saves a newer checkpoint, or a model saved again in place, gets a
 * new stamp, so suggestions cached from the old weights are not served.
 */
export async function checkpointStamp(dir: string): Promise<string> {
  try {
    const found = (await findCheckpoint(dir)) ?? dir;
    for (const file of [WEIGHTS_FILE, ADAPTER_WEIGHTS_FILE]) {
      const s = await stat(join(found, file)).catch(() => undefined);
      if (s) return `${found}@${s.mtimeMs}:${s.size}`;
    }
    return found;
  } catch {
    return dir;
  }
}
