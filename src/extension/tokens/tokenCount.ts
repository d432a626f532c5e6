// The status bar's live token count of the selection (or the whole file), computed in the worker after
// the selection settles (debounced); a newer request supersedes an older one.
import * as vscode from 'vscode';
import type { TokenizerChoice } from './tokenizerChoice';
import { tokenizeParams } from './tokenizerChoice';
import type { WorkerClient } from '../workerClient';

/** Above this many characters the live count is estimated instead of sent to the worker on every move. */
export const LIVE_COUNT_MAX_CHARS = 2_000_000;

export class TokenCountItem implements vscode.Disposable {
  readonly item = vscode.window.createStatusBarItem('llmLab.tokenCount', vscode.StatusBarAlignment.Right, 100);
  private readonly disposables: vscode.Disposable[] = [];
  private timer: NodeJS.Timeout | undefined;
  private inflight: AbortController | undefined;
  private generation = 0;
  /** Resolves when the latest update has been shown (for tests). */
  settled: Promise<void> = Promise.resolve();

  constructor(
    private readonly worker: WorkerClient,
    private readonly encoding: () => Promise<TokenizerChoice> | TokenizerChoice,
    private readonly enabled: () => boolean,
  ) {
    this.item.name = 'LLM Lab Token Count';
    this.item.command = 'llmLab.tokenizeSelection';
    this.disposables.push(
      vscode.window.onDidChangeTextEditorSelection(() => this.schedule()),
      vscode.window.onDidChangeActiveTextEditor(() => this.schedule()),
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (e.document === vscode.window.activeTextEditor?.document) this.schedule();
      }),
    );
    this.schedule(0);
  }

  get text(): string {
    return this.item.text;
  }

  /** Recounts after `delayMs` of quiet. */
  schedule(delayMs = 200): Promise<void> {
    clearTimeout(this.timer);
    const gen = ++this.generation;
    this.settled = new Promise((resolve) => {
      this.timer = setTimeout(() => void this.update(gen).finally(resolve), delayMs);
    });
    return this.settled;
  }

  private async update(gen: number): Promise<void> {
    const editor = vscode.window.activeTextEditor;
    if (!this.enabled() || !editor) {
      this.item.hide();
      return;
    }
    this.inflight?.abort();
    const controller = new AbortController();
    this.inflight = controller;
    const doc = editor.document;
    const selected = editor.selections.filter((s) => !s.isEmpty);
    const what = selected.length ? 'selection' : 'file';
    const length = selected.length ? selected.reduce((n, s) => n + doc.offsetAt(s.end) - doc.offsetAt(s.start), 0) : doc.getText().length;
    if (length > LIVE_COUNT_MAX_CHARS) {
      // Too big to recount on every cursor move: an estimate, labelled as one; Tokenize Selection counts exactly.
      const approx = Math.round(length / 4);
      this.item.text = `$(symbol-key) ≈${approx.toLocaleString('en-US')} tokens`;
      this.item.tooltip = `About ${approx.toLocaleString('en-US')} tokens in the ${what} (estimated from its ${length.toLocaleString('en-US')} characters). Click for the exact count.`;
      this.item.show();
      return;
    }
    const text = selected.length ? selected.map((s) => doc.getText(s)).join('') : doc.getText();
    try {
      const tokenizer = await this.encoding();
      const res = await this.worker.request('tokenize', { text, ...tokenizeParams(tokenizer), maxSpans: 0 }, { signal: controller.signal });
      if (gen !== this.generation) return;
      this.item.text = `$(symbol-key) ${res.count.toLocaleString('en-US')} tokens`;
      this.item.tooltip = `${res.count.toLocaleString('en-US')} ${tokenizer.label} tokens in the ${what}. Click to draw them (LLM Lab: Tokenize Selection).`;
      this.item.show();
    } catch {
      if (gen === this.generation) this.item.hide();
    }
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.inflight?.abort();
    this.item.dispose();
    for (const d of this.disposables) d.dispose();
  }
}
