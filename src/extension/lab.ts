// What the commands (and the panel) share: the worker client, the training controller, the token view,
// the selected model and where runs live. Built once in `activate`.
import * as vscode from 'vscode';
import type { TokenizerChoice } from './tokens/tokenizerChoice';
import { encodingChoice, modelChoice } from './tokens/tokenizerChoice';
import type { Notifier } from './notify';
import { ensureRunsFolder, resolveRunsFolder } from './runs';
import { readSettings } from './settings';
import type { TokenCountItem } from './tokens/tokenCount';
import type { TokenView } from './tokens/tokenView';
import type { TrainingController } from './training';
import type { TrainingService } from './trainingService';
import type { WorkerClient } from './workerClient';

const MODEL_KEY = 'llmLab.activeModel';

/** The model Generate, Evaluate and the panel use; remembered per workspace. */
export class ActiveModel implements vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<string | undefined>();
  readonly onDidChange = this.changed.event;
  private tokenizerCache = new Map<string, TokenizerChoice>();

  constructor(private readonly state: vscode.Memento) {}

  get dir(): string | undefined {
    return this.state.get<string>(MODEL_KEY);
  }

  async set(dir: string | undefined): Promise<void> {
    await this.state.update(MODEL_KEY, dir);
    this.changed.fire(dir);
  }

  /** The selected model's tokenizer (asks the worker once per model), gpt2 when none is selected. */
  async tokenizer(worker: WorkerClient): Promise<TokenizerChoice> {
    const dir = this.dir;
    if (!dir) return encodingChoice('gpt2');
    const known = this.tokenizerCache.get(dir);
    if (known) return known;
    const choice = modelChoice(await worker.request('model/info', { modelDir: dir }));
    this.tokenizerCache.set(dir, choice);
    return choice;
  }

  dispose(): void {
    this.changed.dispose();
  }
}

export interface Lab {
  context: vscode.ExtensionContext;
  output: vscode.OutputChannel;
  notifier: Notifier;
  worker: WorkerClient;
  /** A second worker process for inline completions, so they never wait behind training. */
  inference: WorkerClient;
  training: TrainingController;
  /** Starts, resumes and stops training for the commands and the panel. */
  trainer: TrainingService;
  tokens: TokenView;
  tokenCount: TokenCountItem;
  model: ActiveModel;
}

/** The first workspace folder on disk, or undefined when no folder is open. */
export function workspaceRoot(): string | undefined {
  const f = vscode.workspace.workspaceFolders?.find((w) => w.uri.scheme === 'file');
  return f?.uri.fsPath;
}

/** Absolute runs folder from the setting, or undefined without a workspace folder. */
export function runsFolder(): string | undefined {
  const root = workspaceRoot();
  return root ? resolveRunsFolder(root, readSettings().runsFolder) : undefined;
}

/**
 * Makes the runs folder before a run writes into it; when that fails, says why with a way to the setting and
 * returns false.
 */
export async function prepareRunsFolder(lab: Lab, runs: string): Promise<boolean> {
  try {
    await ensureRunsFolder(runs);
    return true;
  } catch (e) {
    lab.notifier.offer('error', (e as Error).message, {
      'Open Settings': () => vscode.commands.executeCommand('workbench.action.openSettings', 'llmLab.runsFolder'),
    });
    return false;
  }
}

/** Bridges a VS Code cancellation token to an AbortSignal for core and the worker. */
export function toAbortSignal(token: vscode.CancellationToken): AbortSignal {
  const c = new AbortController();
  if (token.isCancellationRequested) c.abort();
  token.onCancellationRequested(() => c.abort());
  return c.signal;
}
