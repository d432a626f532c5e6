// Tokenize Selection in a real editor: decorations for each token, a hover with id/text/bytes, the status
// bar's live count, clearing on edit, and the drawing cap on a large selection.
import * as assert from 'node:assert';
import * as vscode from 'vscode';
import { api, messagesSince, openFixture, waitFor } from './helpers';

interface TokenizeResult {
  count: number;
  drawn: number;
  truncated: boolean;
  encoding: string;
}

describe('tokenize selection', () => {
  afterEach(async () => {
    await vscode.workspace.getConfiguration('llmLab').update('tokenizer.maxDrawnTokens', undefined, vscode.ConfigurationTarget.Workspace);
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
  });

  it('draws the selection\'s tokens, shows a hover per token and counts them in the status bar', async () => {
    const a = await api();
    const editor = await openFixture('hello.txt');
    const doc = editor.document;
    // "Hello, do you like tea?" is the first 23 characters; GPT-2 gives the book's 7 ids.
    editor.selection = new vscode.Selection(doc.positionAt(0), doc.positionAt(23));
    const r = (await vscode.commands.executeCommand('llmLab.tokenizeSelection')) as TokenizeResult;
    assert.deepStrictEqual(r, { count: 7, drawn: 7, truncated: false, encoding: 'gpt2' });
    const state = a.lab.tokens.state(doc.uri);
    assert.ok(state, 'no token state for the document');
    assert.deepStrictEqual(state.spans.map((s) => s.id), [15496, 11, 466, 345, 588, 8887, 30]);
    assert.deepStrictEqual(state.spans.map((s) => doc.getText(new vscode.Range(doc.positionAt(s.start), doc.positionAt(s.end)))), ['Hello', ',', ' do', ' you', ' like', ' tea', '?']);

    const hovers = (await vscode.commands.executeCommand('vscode.executeHoverProvider', doc.uri, doc.positionAt(20))) as vscode.Hover[];
    const text = hovers.flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : c.value))).join('\n');
    assert.match(text, /Token 6 of 7/);
    assert.match(text, /id: `8887`/);
    assert.match(text, /bytes: `20 74 65 61`/);

    // The selection is collapsed so the colours show; the status bar then counts the whole file...
    assert.ok(editor.selection.isEmpty, 'the selection still hides the tokens');
    await waitFor('the file count', async () => {
      await a.lab.tokenCount.settled;
      return /^\$\(symbol-key\) \d+ tokens$/.test(a.lab.tokenCount.text) && a.lab.tokenCount.text !== '$(symbol-key) 7 tokens';
    });
    // ...and a selection again counts just the selection.
    editor.selection = new vscode.Selection(doc.positionAt(0), doc.positionAt(23));
    await waitFor('the selection count', async () => {
      await a.lab.tokenCount.settled;
      return a.lab.tokenCount.text === '$(symbol-key) 7 tokens';
    });
  });

  it('removes the tokens when the text is edited, and on Clear Tokens', async () => {
    const a = await api();
    const editor = await openFixture('hello.txt');
    const doc = editor.document;
    editor.selection = new vscode.Selection(doc.positionAt(0), doc.positionAt(23));
    await vscode.commands.executeCommand('llmLab.tokenizeSelection');
    assert.ok(a.lab.tokens.state(doc.uri));
    await editor.edit((b) => b.insert(doc.positionAt(0), 'x'));
    assert.strictEqual(a.lab.tokens.state(doc.uri), undefined, 'an edit did not clear the tokens');
    await vscode.commands.executeCommand('llmLab.tokenizeSelection');
    assert.ok(a.lab.tokens.state(doc.uri));
    assert.strictEqual(await vscode.commands.executeCommand('llmLab.clearTokens'), true);
    assert.strictEqual(a.lab.tokens.state(doc.uri), undefined);
  });

  it('caps what is drawn on a large selection and says so, keeping the count exact', async () => {
    const a = await api();
    await vscode.workspace.getConfiguration('llmLab').update('tokenizer.maxDrawnTokens', 100, vscode.ConfigurationTarget.Workspace);
    const doc = await vscode.workspace.openTextDocument({ content: 'The quick brown fox jumps over the lazy dog. '.repeat(4000) });
    const editor = await vscode.window.showTextDocument(doc);
    editor.selection = new vscode.Selection(doc.positionAt(0), doc.positionAt(doc.getText().length));
    const t0 = Date.now();
    const r = (await vscode.commands.executeCommand('llmLab.tokenizeSelection')) as TokenizeResult;
    assert.strictEqual(r.drawn, 100);
    assert.strictEqual(r.truncated, true);
    // 10 tokens a sentence ("The", " quick", ..., " dog", "."), 4000 sentences, and the final space alone.
    assert.strictEqual(r.count, 40_001);
    assert.ok(messagesSince(a, t0).some((m) => /Drew the first 100 of 40,001 tokens/.test(m)));
  });
});
