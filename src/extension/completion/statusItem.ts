// The inline completions' status bar item: which model answers and whether completions are on; a click
// toggles them. Its tooltip gives the requests answered, cache hits and the median latency, or what went wrong.
import * as vscode from 'vscode';
import { readSettings } from '../settings';
import { modelLabel } from './modelChoice';
import type { InlineCompletionProvider } from './provider';

export const TOGGLE_COMMAND = 'llmLab.toggleInlineCompletion';

export class CompletionStatusItem implements vscode.Disposable {
  readonly item = vscode.window.createStatusBarItem('llmLab.inlineCompletion', vscode.StatusBarAlignment.Right, 99);
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly provider: InlineCompletionProvider,
    private readonly modelDir: () => string | undefined,
    onModelChange: vscode.Event<unknown>,
  ) {
    this.item.name = 'LLM Lab Inline Completions';
    this.item.command = TOGGLE_COMMAND;
    this.disposables.push(
      provider.onDidChangeStatus(() => this.update()),
      onModelChange(() => this.update()),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('llmLab.inlineCompletion')) this.update();
      }),
    );
    this.update();
    this.item.show();
  }

  get text(): string {
    return this.item.text;
  }

  update(): void {
    const on = readSettings().completion.enabled;
    const dir = this.modelDir();
    const name = this.provider.lastModel && dir && this.provider.lastModel.startsWith(dir) ? modelLabel(this.provider.lastModel) : dir ? modelLabel(dir) : 'no model';
    const warn = on && (this.provider.lastError || !dir);
    this.item.text = `${warn ? '$(warning)' : on ? '$(sparkle)' : '$(circle-slash)'} ${name}`;
    const tip = new vscode.MarkdownString(undefined, true);
    tip.isTrusted = { enabledCommands: [TOGGLE_COMMAND, 'llmLab.selectModel'] };
    tip.appendMarkdown(`**LLM Lab inline completions: ${on ? 'on' : 'off'}** — click to turn them ${on ? 'off' : 'on'}.\n\n`);
    tip.appendMarkdown(dir ? `Model: \`${dir}\`\n\n` : 'No model: [Select Model](command:llmLab.selectModel) or set `llmLab.inlineCompletion.model`.\n\n');
    tip.appendMarkdown(`${this.provider.stats.summary()}.`);
    if (on && this.provider.lastError) tip.appendMarkdown(`\n\nLast error: ${this.provider.lastError}`);
    this.item.tooltip = tip;
  }

  dispose(): void {
    this.item.dispose();
    for (const d of this.disposables) d.dispose();
  }
}

/** Flips llmLab.inlineCompletion.enabled where it is set (workspace or user settings); returns the new value. */
export async function toggleInlineCompletion(): Promise<boolean> {
  const c = vscode.workspace.getConfiguration('llmLab');
  const inspect = c.inspect<boolean>('inlineCompletion.enabled');
  const on = !readSettings().completion.enabled;
  const target = inspect?.workspaceValue !== undefined ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
  await c.update('inlineCompletion.enabled', on, target);
  return on;
}
