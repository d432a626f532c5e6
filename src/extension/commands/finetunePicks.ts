// The questions both fine-tuning commands ask, each a keyboard-friendly quick pick or input box: the data
// file (workspace files of the task's formats, or any file), the base model (the workspace's runs, downloaded
// GPT-2, the selected model, or a preset's fresh weights), LoRA's rank, alpha and targets, and a whole
// number (epochs, blocks). Each returns undefined when the person presses Escape.
import * as vscode from 'vscode';
import { isAdapterFolder } from '../../core/checkpoint/layout';
import { DEFAULT_LORA_TARGETS, LORA_TARGETS } from '../../core/lora/targets';
import { PRESETS, PRESET_NAMES, countParameters } from '../../core/model/config';
import type { LoraChoice } from '../../protocol/worker';
import type { Lab } from '../lab';
import { runsFolder, workspaceRoot } from '../lab';
import { displayPath, listRuns } from '../runs';
import { downloadGpt2Command, downloadedModels } from './download';

/** A base model: a folder, or a preset's fresh seeded weights. */
export type BaseChoice = { modelDir: string; preset?: undefined } | { preset: string; modelDir?: undefined };

/** Asks for the data file among the workspace's files with `extensions` (or any file through a dialog). */
export async function pickDataFile(title: string, extensions: string[], what: string): Promise<string | undefined> {
  const runs = runsFolder();
  const root = workspaceRoot();
  const found = await vscode.workspace.findFiles(`**/*.{${extensions.join(',')}}`, '**/{node_modules,.git,.llm-lab}/**', 500);
  type Item = vscode.QuickPickItem & { file?: string };
  const items: Item[] = found
    .map((u) => u.fsPath)
    .filter((f) => !runs || !f.startsWith(runs))
    .sort()
    .map((f) => ({ label: vscode.workspace.asRelativePath(f), file: f }));
  items.push({ label: '$(folder-opened) Choose a file…', detail: `Any ${what} file (${extensions.map((e) => `.${e}`).join(', ')})` });
  const pick = await vscode.window.showQuickPick(items, {
    title: `${title}: ${what}`,
    placeHolder: found.length ? `The ${what} file to fine-tune on` : `No ${extensions.join('/')} files in the workspace: choose one`,
    matchOnDescription: true,
    ignoreFocusOut: true,
  });
  if (!pick) return undefined;
  if (pick.file) return pick.file;
  const picked = await vscode.window.showOpenDialog({
    canSelectMany: false,
    openLabel: 'Fine-tune on This File',
    ...(root ? { defaultUri: vscode.Uri.file(root) } : {}),
    filters: { [what]: extensions },
  });
  return picked?.[0]?.fsPath;
}

/** Asks for the model to start from. */
export async function pickBaseModel(lab: Lab, title: string): Promise<BaseChoice | undefined> {
  const root = workspaceRoot();
  const runs = runsFolder();
  type Item = vscode.QuickPickItem & { dir?: string; preset?: string; action?: 'download' | 'browse' };
  const items: Item[] = [];
  const selected = lab.model.dir;
  if (selected && !(await isAdapterFolder(selected))) {
    items.push({ label: '$(check) The selected model', description: displayPath(selected, root), dir: selected });
  }
  const found = runs ? (await listRuns(runs)).filter((r) => r.latestModel) : [];
  const models = [];
  for (const r of found) if (!(await isAdapterFolder(r.latestModel!))) models.push(r);
  if (models.length) {
    items.push({ label: 'Runs', kind: vscode.QuickPickItemKind.Separator });
    items.push(...models.map((r) => ({ label: r.name, detail: displayPath(r.latestModel!, root), dir: r.latestModel })));
  }
  const downloaded = await downloadedModels();
  if (downloaded.length) {
    items.push({ label: 'Downloaded', kind: vscode.QuickPickItemKind.Separator });
    items.push(...downloaded.map((m) => ({ label: `$(cloud) ${m.name}`, detail: m.dir, dir: m.dir })));
  }
  items.push({ label: 'Fresh weights', kind: vscode.QuickPickItemKind.Separator });
  items.push(
    ...PRESET_NAMES.map((p) => ({
      label: `$(sparkle) ${p}`,
      description: `random weights · ${(countParameters(PRESETS[p]) / 1e6).toFixed(1)}M parameters · context ${PRESETS[p].contextLength}`,
      preset: p,
    })),
  );
  items.push({ label: '', kind: vscode.QuickPickItemKind.Separator });
  items.push({ label: '$(cloud-download) Download GPT-2…', detail: 'OpenAI’s pretrained weights, as the book fine-tunes', action: 'download' });
  items.push({ label: '$(folder-opened) Choose a model folder…', detail: 'A folder with config.json and model.safetensors', action: 'browse' });
  const pick = await vscode.window.showQuickPick(items, { title: `${title}: base model`, placeHolder: 'The model to start from', ignoreFocusOut: true });
  if (!pick) return undefined;
  if (pick.preset) return { preset: pick.preset };
  if (pick.dir) return { modelDir: pick.dir };
  if (pick.action === 'download') {
    const r = await downloadGpt2Command(lab, { quiet: true });
    return r ? { modelDir: r.dir } : undefined;
  }
  const picked = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, openLabel: 'Start from This Model' });
  return picked?.[0] ? { modelDir: picked[0].fsPath } : undefined;
}

/** Asks for a whole number of at least `min`. */
export async function askCount(title: string, prompt: string, initial: number, min = 1, max = 1_000_000): Promise<number | undefined> {
  const typed = await vscode.window.showInputBox({
    title,
    prompt,
    value: String(initial),
    ignoreFocusOut: true,
    validateInput: (v) => {
      const t = v.trim();
      return /^\d+$/.test(t) && Number(t) >= min && Number(t) <= max ? undefined : `A whole number from ${min} to ${max.toLocaleString('en-US')}`;
    },
  });
  return typed === undefined ? undefined : Number(typed.trim());
}

/** Asks for LoRA's rank, alpha and the layers it adapts. */
export async function pickLora(title: string): Promise<LoraChoice | undefined> {
  const rank = await askCount(`${title}: LoRA rank`, 'Inner width r of each adapter (the book uses 16; smaller trains fewer values)', 8, 1, 4096);
  if (rank === undefined) return undefined;
  const alphaText = await vscode.window.showInputBox({
    title: `${title}: LoRA alpha`,
    prompt: 'Scale: each adapter’s output is multiplied by alpha / rank',
    value: String(rank),
    ignoreFocusOut: true,
    validateInput: (v) => (/^\d+(\.\d+)?$/.test(v.trim()) && Number(v) > 0 ? undefined : 'A positive number'),
  });
  if (alphaText === undefined) return undefined;
  const names: Record<string, string> = {
    q: 'attention query', k: 'attention key', v: 'attention value', 'attn-out': 'attention output projection',
    'mlp-in': 'first MLP layer', 'mlp-out': 'second MLP layer', head: 'the output head (left out, a classifier’s new head trains whole)',
  };
  const picks = await vscode.window.showQuickPick(
    LORA_TARGETS.map((t) => ({ label: t, description: names[t], picked: DEFAULT_LORA_TARGETS.includes(t) })),
    { title: `${title}: layers that get adapters`, placeHolder: 'Space toggles; Enter accepts (the book adapts all of them)', canPickMany: true, ignoreFocusOut: true },
  );
  if (!picks) return undefined;
  if (picks.length === 0) {
    void vscode.window.showWarningMessage('LoRA needs at least one adapted layer; pick one or more.');
    return undefined;
  }
  return { rank, alpha: Number(alphaText.trim()), targets: picks.map((p) => p.label) };
}
