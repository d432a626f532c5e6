// Download GPT-2: pick a size, download it in the worker with progress and cancel, then offer to use it.
// Downloaded models live in one folder shared with the `llm-lab download` CLI and show in Select Model.
import * as vscode from 'vscode';
import * as path from 'node:path';
import type { DownloadedModel, Gpt2ModelName } from '../../core/hub';
import { GPT2_MODEL_NAMES, GPT2_MODELS, listDownloadedModels, modelCacheDir } from '../../core/hub';
import { LlmLabError } from '../../core/errors';
import { formatBytes } from '../../core/model/config';
import type { ResultOf } from '../../protocol/worker';
import type { Lab } from '../lab';
import { toAbortSignal } from '../lab';
import { readSettings } from '../settings';

/** The folder downloaded models go into: the setting when given (it must be absolute), else the user's cache. */
export function modelsFolder(): string {
  const configured = readSettings().modelsFolder.trim();
  if (!configured) return modelCacheDir();
  if (!path.isAbsolute(configured)) {
    throw new LlmLabError('bad-argument', `The setting llmLab.download.modelsFolder must be an absolute path (it is '${configured}'); fix it or leave it empty for ~/.cache/llm-lab/models.`);
  }
  return configured;
}

/** Models downloaded so far, for Select Model (none when the folder is unusable). */
export async function downloadedModels(): Promise<DownloadedModel[]> {
  try {
    return await listDownloadedModels(modelsFolder());
  } catch {
    return [];
  }
}

function sizeLabel(name: Gpt2ModelName): string {
  const m = GPT2_MODELS[name];
  return `${Math.round(m.parameters / 1e6)}M parameters, about ${formatBytes(m.downloadBytes)} to download`;
}

export async function downloadGpt2Command(
  lab: Lab,
  args: { name?: Gpt2ModelName; quiet?: boolean } = {},
): Promise<ResultOf<'model/download'> | undefined> {
  let name = args.name;
  if (!name) {
    const have = new Set((await downloadedModels()).map((m) => m.name));
    const pick = await vscode.window.showQuickPick(
      GPT2_MODEL_NAMES.map((n) => ({ label: n, description: have.has(n) ? '(downloaded)' : undefined, detail: sizeLabel(n), name: n })),
      { title: 'LLM Lab: download OpenAI’s GPT-2 weights', placeHolder: 'Which size? (the weights of openai-community/<name> on the Hugging Face hub)' },
    );
    if (!pick) return undefined;
    name = pick.name;
  }
  if (!(GPT2_MODEL_NAMES as string[]).includes(name)) {
    throw new LlmLabError('bad-argument', `There is no GPT-2 model '${String(name)}'; choose one of ${GPT2_MODEL_NAMES.join(', ')}.`);
  }
  const s = readSettings();
  const cacheDir = modelsFolder();
  const result = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `LLM Lab: downloading ${name}`, cancellable: true },
    async (progress, token) => {
      let shown = 0; // percent of model.safetensors reported so far
      return lab.worker.request(
        'model/download',
        { name: name!, ...(s.hubBaseUrl ? { baseUrl: s.hubBaseUrl } : {}), cacheDir },
        {
          signal: toAbortSignal(token),
          onNotify: (n) => {
            if (n.method !== 'download/didProgress' || n.params.total === undefined || n.params.file !== 'model.safetensors') return;
            const p = n.params;
            const pct = Math.floor((100 * p.bytes) / Math.max(1, p.total!));
            const speed = p.bytesPerSec ? `, ${formatBytes(p.bytesPerSec)}/s` : '';
            const eta = p.etaMs !== undefined ? `, ${Math.ceil(p.etaMs / 1000)} s left` : '';
            progress.report({ increment: Math.max(0, pct - shown), message: `${formatBytes(p.bytes)} of ${formatBytes(p.total!)}${speed}${eta}` });
            shown = Math.max(shown, pct);
          },
        },
      );
    },
  );
  const fetched = result.files.filter((f) => !f.alreadyThere);
  lab.output.appendLine(
    `Download ${name} into ${result.dir}: ` +
      result.files.map((f) => `${f.name} ${formatBytes(f.bytes)} ${f.alreadyThere ? 'already there' : `${f.verified ?? ''} verified${f.resumedFrom ? `, resumed from ${formatBytes(f.resumedFrom)}` : ''}`}`).join('; '),
  );
  if (!args.quiet) {
    lab.notifier.offer('info', `${fetched.length ? 'Downloaded' : 'Already downloaded:'} ${name} (${result.dir}).`, {
      'Use This Model': () => vscode.commands.executeCommand('llmLab.selectModel', { modelDir: result.dir }),
    });
  }
  return result;
}
