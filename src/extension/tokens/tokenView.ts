// Tokenize Selection in the editor: the worker tokenizes (off the UI path), the host draws at most
// `maxDrawnTokens` tokens with two alternating theme colours, a hover shows a token's id, text and bytes,
// and any edit of the document (or Clear Tokens) removes them.
import * as vscode from 'vscode';
import type { TokenizerChoice } from './tokenizerChoice';
import { tokenizeParams } from './tokenizerChoice';
import type { TokenSpan } from '../../protocol/worker';
import type { WorkerClient } from '../workerClient';
import { hexBytes, spanAt, visibleText } from './tokenText';

export interface TokenState {
  uri: string;
  version: number;
  /** The tokenizer's name (an encoding or a trained tokenizer). */
  encoding: string;
  /** Exact token count of the tokenized text. */
  count: number;
  /** Tokens drawn (capped). */
  drawn: number;
  truncated: boolean;
  /** Drawn tokens, document offsets, in order. */
  spans: { id: number; start: number; end: number; bytes: number[] }[];
}

export class TokenView implements vscode.Disposable {
  private readonly kinds = [
    vscode.window.createTextEditorDecorationType({ backgroundColor: new vscode.ThemeColor('llmLab.tokenBackground1'), borderRadius: '2px' }),
    vscode.window.createTextEditorDecorationType({ backgroundColor: new vscode.ThemeColor('llmLab.tokenBackground2'), borderRadius: '2px' }),
  ];
  private readonly states = new Map<string, TokenState>();
  private readonly disposables: vscode.Disposable[] = [];
  private pending: AbortController | undefined;

  constructor(private readonly worker: WorkerClient) {
    this.disposables.push(
      vscode.languages.registerHoverProvider({ pattern: '**' }, { provideHover: (doc, pos) => this.hover(doc, pos) }),
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (e.contentChanges.length > 0 && this.states.has(e.document.uri.toString())) this.clear(e.document.uri);
      }),
      vscode.window.onDidChangeVisibleTextEditors(() => this.redrawAll()),
      vscode.workspace.onDidCloseTextDocument((d) => this.states.delete(d.uri.toString())),
    );
  }

  state(uri: vscode.Uri | string): TokenState | undefined {
    return this.states.get(uri.toString());
  }

  /** Tokenizes the selection (or the whole document when nothing is selected) and draws it. */
  async tokenize(editor: vscode.TextEditor, tokenizer: TokenizerChoice, maxDrawn: number, token?: vscode.CancellationToken): Promise<TokenState> {
    this.pending?.abort();
    const controller = new AbortController();
    this.pending = controller;
    token?.onCancellationRequested(() => controller.abort());
    const doc = editor.document;
    const range = editor.selection.isEmpty ? new vscode.Range(doc.positionAt(0), doc.positionAt(doc.getText().length)) : editor.selection;
    const base = doc.offsetAt(range.start);
    const version = doc.version;
    const res = await this.worker.request('tokenize', { text: doc.getText(range), ...tokenizeParams(tokenizer), maxSpans: maxDrawn }, { signal: controller.signal });
    if (doc.version !== version) throw new vscode.CancellationError();
    const spans = res.spans.map((s: TokenSpan) => ({ id: s.id, start: base + s.start, end: base + s.end, bytes: s.bytes }));
    const state: TokenState = { uri: doc.uri.toString(), version, encoding: tokenizer.label, count: res.count, drawn: spans.length, truncated: res.truncated, spans };
    this.states.set(state.uri, state);
    this.redraw(doc.uri);
    return state;
  }

  clear(uri?: vscode.Uri): void {
    const keys = uri ? [uri.toString()] : [...this.states.keys()];
    for (const k of keys) this.states.delete(k);
    for (const editor of vscode.window.visibleTextEditors) {
      if (!uri || editor.document.uri.toString() === uri.toString()) for (const kind of this.kinds) editor.setDecorations(kind, []);
    }
  }

  private redrawAll(): void {
    for (const key of this.states.keys()) this.redraw(vscode.Uri.parse(key));
  }

  private redraw(uri: vscode.Uri): void {
    const state = this.states.get(uri.toString());
    for (const editor of vscode.window.visibleTextEditors) {
      if (editor.document.uri.toString() !== uri.toString()) continue;
      const groups: vscode.Range[][] = [[], []];
      if (state) {
        const doc = editor.document;
        state.spans.forEach((s, i) => groups[i % 2].push(new vscode.Range(doc.positionAt(s.start), doc.positionAt(s.end))));
      }
      this.kinds.forEach((kind, i) => editor.setDecorations(kind, groups[i]));
    }
  }

  private hover(doc: vscode.TextDocument, pos: vscode.Position): vscode.Hover | undefined {
    const state = this.states.get(doc.uri.toString());
    if (!state) return undefined;
    const i = spanAt(state.spans, doc.offsetAt(pos));
    if (i < 0) return undefined;
    const s = state.spans[i];
    const text = doc.getText(new vscode.Range(doc.positionAt(s.start), doc.positionAt(s.end)));
    const md = new vscode.MarkdownString();
    md.appendMarkdown(`**Token ${i + 1} of ${state.count}** (${state.encoding})\n\n`);
    md.appendMarkdown(`- id: \`${s.id}\`\n- text: \`${visibleText(text).replace(/`/g, 'ˋ')}\`\n- bytes: \`${hexBytes(s.bytes)}\``);
    return new vscode.Hover(md, new vscode.Range(doc.positionAt(s.start), doc.positionAt(s.end)));
  }

  dispose(): void {
    this.pending?.abort();
    for (const d of [...this.kinds, ...this.disposables]) d.dispose();
    this.states.clear();
  }
}
