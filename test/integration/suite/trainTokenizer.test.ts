// Train Tokenizer on Workspace in a real VS Code: the worker learns a tokenizer from workspace files, saves its
// three files, reports the compression beside GPT-2's, and Tokenize Selection then draws with it.
import * as assert from 'node:assert';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { getTokenizer } from '../../../src/core/tokenizer';
import { loadTokenizer } from '../../../src/core/tokenizer/files';
import type { ResultOf } from '../../../src/protocol/worker';
import { api, openFixture, workspaceRoot } from './helpers';

describe('train tokenizer on workspace', () => {
  let outDir: string | undefined;
  after(async () => {
    const c = vscode.workspace.getConfiguration('llmLab');
    await c.update('tokenizer.encoding', undefined, vscode.ConfigurationTarget.Workspace);
    await c.update('tokenizer.trainedFolder', undefined, vscode.ConfigurationTarget.Workspace);
    if (outDir) await fsp.rm(outDir, { recursive: true, force: true });
  });

  it('trains on the chosen files, saves the tokenizer, compares with GPT-2, and Tokenize Selection uses it', async () => {
    const a = await api();
    const root = workspaceRoot();
    const files = ['corpus/notes.md', 'hello.txt'];
    const r = (await vscode.commands.executeCommand('llmLab.trainTokenizer', { files, vocabSize: 300, pattern: 'gpt2', name: 'it-tok', quiet: true })) as ResultOf<'tokenizer/train'>;
    assert.ok(r, 'the command returned nothing');
    outDir = r.outDir;
    assert.strictEqual(path.dirname(r.outDir), path.join(root, '.llm-lab', 'tokenizers'));
    assert.strictEqual(r.vocabSize, 300);
    assert.strictEqual(r.files, 2);
    for (const f of ['tokenizer.model', 'tokenizer.vocab', 'tokenizer.json']) await fsp.access(path.join(r.outDir, f));
    // GPT-2's count of the same files, computed here.
    const texts = await Promise.all(files.map((f) => fsp.readFile(path.join(root, f), 'utf8')));
    const gpt2 = getTokenizer('gpt2');
    assert.strictEqual(r.gpt2.tokens, texts.reduce((n, t) => n + gpt2.encode(t, { allowSpecial: true }).length, 0));
    const mine = await loadTokenizer(r.outDir);
    assert.strictEqual(r.trained.tokens, texts.reduce((n, t) => n + mine.encode(t, { allowSpecial: true }).length, 0));
    assert.strictEqual(r.trained.tokensPerChar, r.trained.tokens / r.trained.chars);

    const c = vscode.workspace.getConfiguration('llmLab');
    await c.update('tokenizer.trainedFolder', path.relative(root, r.outDir), vscode.ConfigurationTarget.Workspace);
    await c.update('tokenizer.encoding', 'trained', vscode.ConfigurationTarget.Workspace);
    const editor = await openFixture('hello.txt');
    const doc = editor.document;
    editor.selection = new vscode.Selection(doc.positionAt(0), doc.positionAt(23));
    const t = (await vscode.commands.executeCommand('llmLab.tokenizeSelection')) as { count: number; encoding: string };
    const want = mine.encode('Hello, do you like tea?');
    assert.strictEqual(t.encoding, path.basename(r.outDir));
    assert.strictEqual(t.count, want.length);
    assert.deepStrictEqual(a.lab.tokens.state(doc.uri)?.spans.map((s) => s.id), want);
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
  });
});
