// The VS Code side of the lab panel: one WebviewPanel (command "LLM Lab: Open Lab Panel"), restored after
// a reload by a panel serializer, scripts enabled only for the extension's own dist/ and media/ folders,
// and a PanelSession doing the talking. The editor actions use the last text editor the user was in,
// since the panel itself takes focus.
import * as vscode from 'vscode';
import type { PanelBackend, PanelEditor } from './backend';
import { makeNonce, panelHtml } from './html';
import { PanelSession } from './session';

export const LAB_PANEL_VIEW_TYPE = 'llmLab.labPanel';
export const OPEN_LAB_PANEL_COMMAND = 'llmLab.openLabPanel';

export class LabPanel implements vscode.Disposable {
  private static current: LabPanel | undefined;
  private readonly session: PanelSession;
  private readonly subs: vscode.Disposable[] = [];

  /** Reveals the panel, creating it when there is none. */
  static show(extensionUri: vscode.Uri, backend: PanelBackend, editor: PanelEditor, log: (line: string) => void): LabPanel {
    if (LabPanel.current) {
      LabPanel.current.panel.reveal();
      return LabPanel.current;
    }
    const panel = vscode.window.createWebviewPanel(LAB_PANEL_VIEW_TYPE, 'LLM Lab', vscode.ViewColumn.Beside, webviewOptions(extensionUri));
    return new LabPanel(panel, extensionUri, backend, editor, log);
  }

  /** Closes the open panel, if any (on deactivation). */
  static closeCurrent(): void {
    LabPanel.current?.dispose();
  }

  /** Takes over a panel VS Code restored after a reload; the webview restores its own state. */
  static revive(panel: vscode.WebviewPanel, extensionUri: vscode.Uri, backend: PanelBackend, editor: PanelEditor, log: (line: string) => void): LabPanel {
    LabPanel.current?.dispose();
    panel.webview.options = webviewOptions(extensionUri);
    return new LabPanel(panel, extensionUri, backend, editor, log);
  }

  private constructor(
    private readonly panel: vscode.WebviewPanel,
    extensionUri: vscode.Uri,
    backend: PanelBackend,
    editor: PanelEditor,
    log: (line: string) => void,
  ) {
    LabPanel.current = this;
    this.session = new PanelSession(backend, editor, (m) => panel.webview.postMessage(m), log);
    const webview = panel.webview;
    webview.html = panelHtml({
      cspSource: webview.cspSource,
      nonce: makeNonce(),
      scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', 'webview.js')).toString(),
      styleUri: webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', 'webview.css')).toString(),
    });
    this.subs.push(
      webview.onDidReceiveMessage((m: unknown) => this.session.receive(m)),
      // A hidden panel's webview is torn down; it says `ready` again when shown.
      panel.onDidChangeViewState((e) => {
        if (!e.webviewPanel.visible) this.session.suspend();
      }),
      panel.onDidDispose(() => this.dispose()),
    );
  }

  dispose(): void {
    if (LabPanel.current === this) LabPanel.current = undefined;
    this.session.dispose();
    for (const s of this.subs.splice(0)) s.dispose();
    this.panel.dispose();
  }
}

function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewPanelOptions & vscode.WebviewOptions {
  return {
    enableScripts: true,
    retainContextWhenHidden: false,
    localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist'), vscode.Uri.joinPath(extensionUri, 'media')],
  };
}

/** Editor actions against the last text editor the user worked in. */
export function trackEditor(subscriptions: vscode.Disposable[]): PanelEditor {
  let last = vscode.window.activeTextEditor;
  subscriptions.push(
    vscode.window.onDidChangeActiveTextEditor((e) => {
      if (e) last = e;
    }),
  );
  const editor = () => (last && vscode.window.visibleTextEditors.includes(last) ? last : vscode.window.visibleTextEditors[0]);
  return {
    selection() {
      const e = editor();
      return e ? e.document.getText(e.selection) : '';
    },
    async insert(text) {
      const e = editor();
      if (!e) throw new Error('Open a text editor to insert into, then try again.');
      await e.edit((b) => b.replace(e.selection, text));
    },
    async copy(text) {
      await vscode.env.clipboard.writeText(text);
    },
  };
}

/**
 * Registers the "Open Lab Panel" command and the serializer that restores the panel after a reload.
 * `makeBackend` is called once, when the panel is first opened or restored.
 */
export function registerLabPanel(context: vscode.ExtensionContext, makeBackend: () => PanelBackend, log: (line: string) => void = () => undefined): void {
  const editor = trackEditor(context.subscriptions);
  let made: PanelBackend | undefined;
  const backend = () => (made ??= makeBackend());
  context.subscriptions.push(
    vscode.commands.registerCommand(OPEN_LAB_PANEL_COMMAND, () => LabPanel.show(context.extensionUri, backend(), editor, log)),
    vscode.window.registerWebviewPanelSerializer(LAB_PANEL_VIEW_TYPE, {
      async deserializeWebviewPanel(panel: vscode.WebviewPanel) {
        LabPanel.revive(panel, context.extensionUri, backend(), editor, log);
      },
    }),
    { dispose: () => LabPanel.closeCurrent() },
  );
}
