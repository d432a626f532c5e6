// Inline completions in a real extension host: with llmLab.inlineCompletion.enabled and a model trained here,
// the provider answers through the inference worker, a second ask at the same place is a cache hit, the
// status bar names the model and its tooltip counts the requests, the toggle command flips the setting, and
// completions keep answering while a training run holds the training worker busy.
import * as assert from 'node:assert';
import * as vscode from 'vscode';
import type { TrainingEvent, TrainOutcome } from '../../../src/extension/training';
import { api, waitFor } from './helpers';

const SMALL = { files: ['corpus/the-verdict.txt'], preset: 'tiny', batchSize: 2, contextLength: 32, learningRate: 0.001, yes: true };
const automatic: vscode.InlineCompletionContext = { triggerKind: vscode.InlineCompletionTriggerKind.Automatic, selectedCompletionInfo: undefined };

async function setCompletion(key: string, value: unknown): Promise<void> {
  await vscode.workspace.getConfiguration('llmLab').update(`inlineCompletion.${key}`, value, vscode.ConfigurationTarget.Workspace);
}

describe('inline completions', function () {
  this.timeout(240_000);

  before(async () => {
    const info = (await vscode.commands.executeCommand('llmLab.showEngine')) as { gradientsMissing?: string };
    // npm run build makes the gradient bundle, so an engine without it is a broken build, not a reason to skip.
    if (info.gradientsMissing) throw new Error(`This build cannot train: ${info.gradientsMissing}.`);
  });
  after(async () => {
    for (const k of ['enabled', 'mode', 'maxNewTokens', 'debounceMs']) await setCompletion(k, undefined);
  });

  it('suggests from the trained model, serves a repeat from the cache, and toggles', async () => {
    const a = await api();
    const out = (await vscode.commands.executeCommand('llmLab.pretrain', { ...SMALL, steps: 3, evalEvery: 3, checkpointEvery: 3 })) as TrainOutcome;
    assert.strictEqual(out.status, 'completed', out.error);
    assert.strictEqual(a.lab.model.dir, out.checkpointDir);
    const doc = await vscode.workspace.openTextDocument({ content: 'I had always thought Jack Gisburn rather a cheap genius', language: 'plaintext' });
    await vscode.window.showTextDocument(doc);
    const pos = doc.positionAt(doc.getText().length);
    const token = () => new vscode.CancellationTokenSource().token;

    await setCompletion('enabled', false);
    assert.strictEqual(await a.completions.provideInlineCompletionItems(doc, pos, automatic, token()), undefined);
    assert.strictEqual(a.completions.stats.requests, 0, 'asked the model while completions were off');

    await setCompletion('enabled', true);
    await setCompletion('mode', 'block');
    await setCompletion('maxNewTokens', 8);
    await setCompletion('debounceMs', 0);
    // What the inference worker says for this context is what the provider offers.
    const direct = await a.lab.inference.request('complete', {
      modelDir: out.checkpointDir!, prefix: doc.getText(), prefixTruncated: false, suffix: '', suffixTruncated: false,
      mode: 'block', maxLines: 8, maxNewTokens: 8, temperature: 0,
    });
    const items = await a.completions.provideInlineCompletionItems(doc, pos, automatic, token());
    const offered = items?.[0]?.insertText ?? '';
    assert.strictEqual(offered, direct.text);
    if (items?.[0]) assert.ok(items[0].range?.isEqual(new vscode.Range(pos, pos)), 'the suggestion is not inserted at the cursor');
    assert.strictEqual(a.completions.stats.requests, 1);
    await a.completions.provideInlineCompletionItems(doc, pos, automatic, token());
    assert.deepStrictEqual([a.completions.stats.requests, a.completions.stats.cacheHits], [1, 1]);

    assert.match(a.completions.stats.summary(), /^1 request answered, 1 cache hit, median latency \d+ ms$/);
    const run = out.runDir.split(/[\\/]/).pop()!;
    assert.strictEqual(a.completionStatus.text, `$(sparkle) ${run} (step 3)`);
    const on = await vscode.commands.executeCommand('llmLab.toggleInlineCompletion');
    assert.strictEqual(on, false);
    await waitFor('the status bar to say completions are off', () => a.completionStatus.text === `$(circle-slash) ${run} (step 3)`);
    assert.strictEqual(vscode.workspace.getConfiguration('llmLab').get('inlineCompletion.enabled'), false);
    await vscode.commands.executeCommand('llmLab.toggleInlineCompletion');
    assert.strictEqual(vscode.workspace.getConfiguration('llmLab').get('inlineCompletion.enabled'), true);
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
  });

  it('does not serve a suggestion cached from an older checkpoint once the run saves a newer one', async () => {
    const a = await api();
    const out = (await vscode.commands.executeCommand('llmLab.pretrain', { ...SMALL, steps: 2, evalEvery: 2, checkpointEvery: 2 })) as TrainOutcome;
    assert.strictEqual(out.status, 'completed', out.error);
    await setCompletion('enabled', true);
    await setCompletion('model', out.runDir);
    await setCompletion('maxNewTokens', 4);
    await setCompletion('debounceMs', 0);
    try {
      // Not shown in an editor, so only these asks reach the provider (VS Code asks on its own for a visible one).
      const doc = await vscode.workspace.openTextDocument({ content: 'I had always thought', language: 'plaintext' });
      const pos = doc.positionAt(doc.getText().length);
      const token = () => new vscode.CancellationTokenSource().token;
      const requests = a.completions.stats.requests;
      await a.completions.provideInlineCompletionItems(doc, pos, automatic, token());
      await a.completions.provideInlineCompletionItems(doc, pos, automatic, token());
      assert.deepStrictEqual([a.completions.stats.requests - requests, a.completions.lastModel?.endsWith('step-000002')], [1, true], a.completions.lastError);
      // The run saves step 4 (a copy of step 2's files, as a training run writes a new step folder).
      const ckpts = vscode.Uri.joinPath(vscode.Uri.file(out.runDir), 'checkpoints');
      await vscode.workspace.fs.copy(vscode.Uri.joinPath(ckpts, 'step-000002'), vscode.Uri.joinPath(ckpts, 'step-000004'));
      await a.completions.provideInlineCompletionItems(doc, pos, automatic, token());
      assert.strictEqual(a.completions.stats.requests - requests, 2, 'the suggestion of step 2 was served from the cache after step 4 was saved');
      assert.ok(a.completions.lastModel?.endsWith('step-000004'), `answered by ${a.completions.lastModel}`);
    } finally {
      await setCompletion('model', undefined);
    }
  });

  it('is not asked again by VS Code merely because it answered', async () => {
    const a = await api();
    const out = (await vscode.commands.executeCommand('llmLab.pretrain', { ...SMALL, steps: 2, evalEvery: 2, checkpointEvery: 2 })) as TrainOutcome;
    assert.strictEqual(out.status, 'completed', out.error);
    await setCompletion('enabled', true);
    await setCompletion('maxNewTokens', 4);
    await setCompletion('debounceMs', 0);
    const asked = () => a.completions.stats.requests + a.completions.stats.cacheHits + a.completions.stats.cancelled + a.completions.stats.errors;
    // A shown editor: VS Code asks the provider itself here, and would ask again on a change event.
    const editor = await vscode.window.showTextDocument(await vscode.workspace.openTextDocument({ content: 'I had always thought', language: 'plaintext' }));
    const pos = editor.document.positionAt(editor.document.getText().length);
    editor.selection = new vscode.Selection(pos, pos);
    await vscode.commands.executeCommand('editor.action.inlineSuggest.trigger');
    // VS Code's own asks settle within a moment once nothing is typed (each answer used to start the next ask).
    let last = -1;
    let still = 0;
    await waitFor('VS Code to stop asking for suggestions with nothing typed', () => {
      still = asked() === last ? still + 1 : 0;
      last = asked();
      return still >= 15; // 1.5 s without an ask
    }, 30_000);
    const before = asked();
    await a.completions.provideInlineCompletionItems(editor.document, pos, automatic, new vscode.CancellationTokenSource().token);
    await new Promise((r) => setTimeout(r, 2000));
    assert.strictEqual(asked() - before, 1, 'an answer (its status update) made VS Code ask the provider again');
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
  });

  it('keeps answering while a training run is busy', async () => {
    const a = await api();
    const events: TrainingEvent[] = [];
    const sub = a.lab.training.onDidEvent((e) => events.push(e));
    const running = vscode.commands.executeCommand('llmLab.pretrain', { ...SMALL, steps: 500, evalEvery: 1000, checkpointEvery: 1000 }) as Thenable<TrainOutcome>;
    try {
      await waitFor('the first training step', () => events.some((e) => e.event.type === 'step'), 120_000);
      const doc = await vscode.workspace.openTextDocument({ content: 'The quick brown fox', language: 'plaintext' });
      const token = new vscode.CancellationTokenSource().token;
      const errors = a.completions.stats.errors;
      const stepsBefore = events.filter((e) => e.event.type === 'step').length;
      // Each ask is a new context (the text grew), so each one reaches the inference worker.
      const times: number[] = [];
      for (let i = 0; i < 5; i++) {
        const d = await vscode.window.showTextDocument(doc);
        await d.edit((b) => b.insert(doc.positionAt(doc.getText().length), ` ${i}`));
        const requests = a.completions.stats.requests;
        const t0 = Date.now();
        await a.completions.provideInlineCompletionItems(doc, doc.positionAt(doc.getText().length), automatic, token);
        times.push(Date.now() - t0);
        assert.ok(a.completions.stats.requests > requests, `ask ${i} was not answered: ${a.completions.lastError ?? 'no error'}`);
      }
      assert.strictEqual(a.completions.stats.errors, errors, a.completions.lastError);
      assert.ok(a.lab.training.isRunning, 'training ended before the completions were asked');
      const stepsDuring = events.filter((e) => e.event.type === 'step').length - stepsBefore;
      times.sort((x, y) => x - y);
      console.log(`    5 completions during training: median ${times[2]} ms (max ${times[4]} ms); ${stepsDuring} training steps meanwhile`);
      await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
    } finally {
      sub.dispose();
      await vscode.commands.executeCommand('llmLab.stopTraining');
      await running;
    }
  });
});
