// Every command is contributed, registered and runs; the ones that need something missing (a model, a
// run, matching files) say what is wrong instead of failing silently.
import * as assert from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { api, EXTENSION_ID, messagesSince, waitFor, workspaceRoot } from './helpers';

const COMMANDS = [
  'llmLab.openLabPanel', 'llmLab.tokenizeSelection', 'llmLab.clearTokens', 'llmLab.pretrain', 'llmLab.stopTraining', 'llmLab.resumeTraining',
  'llmLab.selectModel', 'llmLab.generateFromSelection', 'llmLab.evaluateModelOnFile', 'llmLab.showEngine', 'llmLab.trainTokenizer',
  'llmLab.finetuneClassifier', 'llmLab.finetuneInstruct', 'llmLab.classifySelection',
];

describe('commands', () => {
  it('contributes and registers every command under the LLM Lab category', async () => {
    await api();
    const ext = vscode.extensions.getExtension(EXTENSION_ID)!;
    const manifest = JSON.parse(readFileSync(join(ext.extensionPath, 'package.json'), 'utf8')) as {
      contributes: { commands: { command: string; category: string }[] };
    };
    const contributed = manifest.contributes.commands.map((c) => c.command);
    for (const id of COMMANDS) assert.ok(contributed.includes(id), `${id} is not contributed`);
    assert.ok(manifest.contributes.commands.every((c) => c.category === 'LLM Lab'));
    const registered = await vscode.commands.getCommands(true);
    for (const id of contributed) assert.ok(registered.includes(id), `${id} is contributed but not registered`);
  });

  it('Show Engine reports the backend the worker runs and what was tried', async () => {
    const a = await api();
    const info = (await vscode.commands.executeCommand('llmLab.showEngine')) as { backend: string; attempts: { name: string; ok: boolean }[]; pid: number };
    assert.ok(info, 'Show Engine returned nothing');
    assert.ok(info.attempts.some((t) => t.ok && t.name === info.backend), 'the backend in use is not among the attempts');
    assert.strictEqual(info.pid, a.lab.worker.pid, 'the engine info did not come from the running worker');
    assert.notStrictEqual(info.pid, process.pid, 'the worker must be a separate process');
  });

  it('Open Lab Panel opens the lab panel', async () => {
    await api();
    await vscode.commands.executeCommand('llmLab.openLabPanel');
    const isPanel = (t: vscode.Tab) => t.input instanceof vscode.TabInputWebview && t.input.viewType.endsWith('llmLab.labPanel');
    await waitFor('the lab panel tab', () => vscode.window.tabGroups.all.flatMap((g) => g.tabs).some(isPanel), 10_000).catch((e: Error) => {
      const seen = vscode.window.tabGroups.all.flatMap((g) => g.tabs).map((t) => `${t.label} ${JSON.stringify(t.input)}`);
      throw new Error(`${e.message} Tabs: ${seen.join('; ')}`);
    });
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  });

  it('Stop Training with nothing running says so', async () => {
    const a = await api();
    const t0 = Date.now();
    assert.strictEqual(await vscode.commands.executeCommand('llmLab.stopTraining'), undefined);
    assert.ok(messagesSince(a, t0).some((m) => /No training is running/.test(m)));
  });

  it('Resume Training with no run offers to pretrain', async () => {
    const a = await api();
    const t0 = Date.now();
    assert.strictEqual(await vscode.commands.executeCommand('llmLab.resumeTraining'), undefined);
    assert.ok(messagesSince(a, t0).some((m) => /no run to resume/.test(m)), messagesSince(a, t0).join('\n'));
  });

  it('Generate and Evaluate without a model say that no model is selected', async () => {
    const a = await api();
    await a.lab.model.set(undefined);
    for (const id of ['llmLab.generateFromSelection', 'llmLab.evaluateModelOnFile']) {
      const t0 = Date.now();
      assert.strictEqual(await vscode.commands.executeCommand(id, { prompt: 'x', file: join(workspaceRoot(), 'hello.txt') }), undefined);
      assert.ok(messagesSince(a, t0).some((m) => /^error: No model is selected/.test(m)), `${id}: ${messagesSince(a, t0).join('\n')}`);
    }
  });

  it('Select Model refuses a folder that is not a model', async () => {
    const a = await api();
    const t0 = Date.now();
    assert.strictEqual(await vscode.commands.executeCommand('llmLab.selectModel', { modelDir: join(workspaceRoot(), 'corpus') }), undefined);
    assert.ok(messagesSince(a, t0).some((m) => /is not a model folder/.test(m)));
    assert.strictEqual(a.lab.model.dir, undefined);
  });

  it('Pretrain with globs that match nothing says so and writes nothing', async () => {
    const a = await api();
    const t0 = Date.now();
    const out = await vscode.commands.executeCommand('llmLab.pretrain', { include: ['**/*.nothing-matches'], preset: 'tiny', steps: 2, yes: true });
    assert.strictEqual(out, undefined);
    assert.ok(messagesSince(a, t0).some((m) => /^error: No files in the workspace match/.test(m)));
    assert.throws(() => readFileSync(join(workspaceRoot(), '.llm-lab', 'runs', '.gitignore')), 'the runs folder was created for nothing');
  });

  it('Pretrain never offers files that .gitignore or files.exclude hide', async () => {
    const a = await api();
    assert.ok(readFileSync(join(workspaceRoot(), 'ignored', 'secret.txt'), 'utf8').length > 0, 'the fixture lacks its ignored file');
    const t0 = Date.now();
    const out = await vscode.commands.executeCommand('llmLab.pretrain', { include: ['ignored/**', 'excluded/**'], preset: 'tiny', steps: 2, yes: true });
    assert.strictEqual(out, undefined);
    assert.ok(messagesSince(a, t0).some((m) => /^error: No files in the workspace match ignored\/\*\*, excluded\/\*\*/.test(m)), messagesSince(a, t0).join('\n'));
  });

  it('Pretrain says when the corpus is shorter than one context window', async () => {
    const a = await api();
    const t0 = Date.now();
    const out = await vscode.commands.executeCommand('llmLab.pretrain', { files: ['hello.txt'], preset: 'tiny', steps: 2, yes: true });
    assert.strictEqual(out, undefined);
    assert.ok(messagesSince(a, t0).some((m) => /^error: The corpus has \d+ tokens, fewer than one context window of preset tiny \(65 tokens\)/.test(m)), messagesSince(a, t0).join('\n'));
  });

  it('Pretrain refuses a preset that will not fit in memory', async () => {
    const a = await api();
    const t0 = Date.now();
    const out = await vscode.commands.executeCommand('llmLab.pretrain', { files: ['hello.txt'], preset: 'gpt2-xl', batchSize: 512, steps: 2, yes: true });
    assert.strictEqual(out, undefined);
    assert.ok(messagesSince(a, t0).some((m) => /^error: Preset gpt2-xl needs about .* Choose a smaller preset/.test(m)), messagesSince(a, t0).join('\n'));
  });
});
