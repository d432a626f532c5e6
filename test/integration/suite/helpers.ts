// Shared helpers of the integration suite: the extension's API, waiting for conditions, the fixture.
import * as assert from 'node:assert';
import * as vscode from 'vscode';
import type { LlmLabApi } from '../../../src/extension/extension';

export const EXTENSION_ID = 'llm-lab.llm-lab';

/** Activates the extension (through a harmless command) and returns its API. */
export async function api(): Promise<LlmLabApi> {
  const ext = vscode.extensions.getExtension<LlmLabApi>(EXTENSION_ID);
  assert.ok(ext, `extension ${EXTENSION_ID} is not loaded`);
  return ext.isActive ? ext.exports : ext.activate();
}

export function workspaceRoot(): string {
  const f = vscode.workspace.workspaceFolders?.[0];
  assert.ok(f, 'the fixture workspace is not open');
  return f.uri.fsPath;
}

export async function waitFor<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}.`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Messages the extension showed since `since` (ms timestamp). */
export function messagesSince(a: LlmLabApi, since: number): string[] {
  return a.messages().filter((m) => m.at >= since).map((m) => `${m.level}: ${m.text}`);
}

export async function openFixture(rel: string): Promise<vscode.TextEditor> {
  const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(`${workspaceRoot()}/${rel}`));
  return vscode.window.showTextDocument(doc);
}
