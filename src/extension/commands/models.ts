// Select Model, Generate from Selection, Evaluate Model on File and Show Engine: the commands that use a
// saved model or ask the worker about itself.
import * as vscode from 'vscode';
import { basename } from 'node:path';
import { LlmLabError } from '../../core/errors';
import type { ModelInfo, ResultOf } from '../../protocol/worker';
import type { Lab } from '../lab';
import { runsFolder, toAbortSignal, workspaceRoot } from '../lab';
import { isRunnableModel } from '../../core/checkpoint/layout';
import { describeRun, displayPath, listRuns } from '../runs';
import { readSettings } from '../settings';
import { downloadGpt2Command, downloadedModels } from './download';

export async function selectModelCommand(lab: Lab, args: { modelDir?: string } = {}): Promise<ModelInfo | undefined> {
  let dir = args.modelDir;
  if (!dir) {
    const runs = runsFolder();
    const found = runs ? (await listRuns(runs)).filter((r) => r.latestModel) : [];
    const root = workspaceRoot();
    const selected = (d: string) => (d === lab.model.dir ? '(selected)' : undefined);
    type Item = vscode.QuickPickItem & { dir?: string; download?: true };
    const items: Item[] = found.map((r) => ({
      label: r.name,
      // A fine-tuned run says what it is and, for a LoRA adapter, the base it runs on.
      description: [selected(r.latestModel!), describeRun(r.record, (d) => displayPath(d, root))].filter(Boolean).join(' '),
      detail: displayPath(r.latestModel!, root),
      dir: r.latestModel,
    }));
    const downloaded = await downloadedModels();
    if (downloaded.length) {
      items.push({ label: 'Downloaded', kind: vscode.QuickPickItemKind.Separator });
      items.push(...downloaded.map((m) => ({ label: `$(cloud) ${m.name}`, description: selected(m.dir), detail: m.dir, dir: m.dir })));
    }
    items.push({ label: '', kind: vscode.QuickPickItemKind.Separator });
    items.push({ label: '$(cloud-download) Download GPT-2…', detail: 'OpenAI’s GPT-2 weights (124M to 1.5B parameters) from the Hugging Face hub', download: true });
    items.push({ label: '$(folder-opened) Import a model folder…', detail: 'A folder with config.json and model.safetensors (an LLM Lab run or a Hugging Face GPT-2 download)' });
    const empty = found.length + downloaded.length === 0;
    const pick = await vscode.window.showQuickPick(items, { title: 'LLM Lab: select the model to use', placeHolder: empty ? 'No runs yet: download GPT-2 or import a model folder' : 'Runs of this workspace and downloaded models' });
    if (!pick) return undefined;
    if (pick.download) {
      const r = await downloadGpt2Command(lab, { quiet: true });
      if (!r) return undefined;
      pick.dir = r.dir;
    }
    dir = pick.dir;
    if (!dir) {
      const picked = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, openLabel: 'Use This Model' });
      if (!picked?.[0]) return undefined;
      dir = picked[0].fsPath;
    }
  }
  if (!(await isRunnableModel(dir))) {
    throw new LlmLabError('bad-checkpoint', `${dir} is not a model folder: it needs config.json and model.safetensors (or a LoRA adapter's adapter.json). Pick a run's checkpoint folder.`);
  }
  const info = await lab.worker.request('model/info', { modelDir: dir });
  await lab.model.set(dir);
  void lab.notifier.info(`Selected model ${info.name} (${(info.parameters / 1e6).toFixed(1)}M parameters, ${info.tokenizer} tokenizer).`);
  return info;
}

/** The selected model, or a message offering to select or train one. */
export async function requireModel(lab: Lab): Promise<string | undefined> {
  const dir = lab.model.dir;
  if (dir && (await isRunnableModel(dir))) return dir;
  const why = dir ? `The selected model ${dir} is gone.` : 'No model is selected.';
  lab.notifier.offer('error', `${why} Select a model (a run's checkpoint or an imported GPT-2) or pretrain one.`, {
    'Select Model': () => vscode.commands.executeCommand('llmLab.selectModel'),
    'Pretrain on Workspace': () => vscode.commands.executeCommand('llmLab.pretrain'),
  });
  return undefined;
}

export interface GenerateArgs {
  prompt?: string;
  maxNewTokens?: number;
  temperature?: number;
  topK?: number;
  seed?: number;
}

/**
 * Opens a new editor beside the current one holding `initial`, runs `run` under a cancellable progress
 * notification, and appends the text it reports as it comes (batched every 60 ms).
 */
export async function streamIntoEditor<R>(
  initial: string,
  title: string,
  run: (signal: AbortSignal, onText: (text: string) => void) => Promise<R>,
): Promise<{ result: R; uri: string }> {
  const doc = await vscode.workspace.openTextDocument({ content: initial, language: 'plaintext' });
  const editor = await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.Beside, preview: false });
  let buffered = '';
  let writing = Promise.resolve();
  const flush = () => {
    const text = buffered;
    buffered = '';
    if (!text) return;
    writing = writing.then(async () => {
      const end = doc.positionAt(doc.getText().length);
      await editor.edit((b) => b.insert(end, text), { undoStopBefore: false, undoStopAfter: false });
    });
  };
  const result = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, async (_p, token) => {
    const timer = setInterval(flush, 60);
    try {
      return await run(toAbortSignal(token), (text) => { buffered += text; });
    } finally {
      clearInterval(timer);
      flush();
      await writing;
    }
  });
  return { result, uri: doc.uri.toString() };
}

/** Streams a continuation of the selection (or the current line) into a new editor. */
export async function generateCommand(lab: Lab, args: GenerateArgs = {}): Promise<{ text: string; uri: string } | undefined> {
  const modelDir = await requireModel(lab);
  if (!modelDir) return undefined;
  let prompt = args.prompt;
  if (prompt === undefined) {
    const editor = vscode.window.activeTextEditor;
    if (!editor) throw new LlmLabError('bad-argument', 'Select some text in an editor to use as the prompt, then run Generate from Selection.');
    const sel = editor.selection;
    prompt = sel.isEmpty ? editor.document.lineAt(sel.active.line).text : editor.document.getText(sel);
  }
  if (!prompt.trim()) throw new LlmLabError('bad-argument', 'The prompt is empty: select some text to continue.');
  const s = readSettings();
  const { result, uri } = await streamIntoEditor(prompt, `LLM Lab: generating with ${basename(modelDir)}`, (signal, onText) =>
    lab.worker.request(
      'generate',
      {
        modelDir, prompt: prompt!, maxNewTokens: args.maxNewTokens ?? s.maxNewTokens, temperature: args.temperature ?? s.temperature,
        ...((args.topK ?? s.topK) > 0 ? { topK: args.topK ?? s.topK } : {}), ...(args.seed !== undefined ? { seed: args.seed } : {}),
      },
      { signal, onNotify: (n) => { if (n.method === 'generate/didToken') onText(n.params.text); } },
    ),
  );
  return { text: result.text, uri };
}

/** Loss and perplexity of the selected model on the active file (or a picked one). */
export async function evaluateCommand(lab: Lab, args: { file?: string } = {}): Promise<ResultOf<'evaluate'> | undefined> {
  const modelDir = await requireModel(lab);
  if (!modelDir) return undefined;
  let doc: vscode.TextDocument | undefined;
  if (args.file) doc = await vscode.workspace.openTextDocument(vscode.Uri.file(args.file));
  else doc = vscode.window.activeTextEditor?.document;
  if (!doc) {
    const picked = await vscode.window.showOpenDialog({ canSelectMany: false, openLabel: 'Evaluate' });
    if (!picked?.[0]) return undefined;
    doc = await vscode.workspace.openTextDocument(picked[0]);
  }
  const text = doc.getText();
  if (!text.trim()) throw new LlmLabError('bad-data', `${vscode.workspace.asRelativePath(doc.uri)} is empty; open a file with text to evaluate.`);
  const name = vscode.workspace.asRelativePath(doc.uri);
  const res = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `LLM Lab: evaluating on ${name}`, cancellable: true },
    (_p, token) => lab.worker.request('evaluate', { modelDir, text }, { signal: toAbortSignal(token) }),
  );
  lab.output.appendLine(`Evaluate ${basename(modelDir)} on ${name}: loss ${res.loss.toFixed(4)}, perplexity ${res.perplexity.toFixed(2)} over ${res.tokens} tokens.`);
  void lab.notifier.info(`${basename(modelDir)} on ${name}: loss ${res.loss.toFixed(3)}, perplexity ${res.perplexity.toFixed(1)} (${res.tokens.toLocaleString('en-US')} tokens).`);
  return res;
}

export async function showEngineCommand(lab: Lab): Promise<ResultOf<'engine/info'>> {
  const info = await lab.worker.request('engine/info', {});
  const out = lab.output;
  out.appendLine(`Engine of the worker (pid ${info.pid}, ${info.runtime}):`);
  out.appendLine(info.summary);
  const others = info.attempts.filter((a) => !a.ok).map((a) => `${a.name} (${a.detail})`).join('; ');
  const training = info.gradientsMissing ? ` Training is unavailable: ${info.gradientsMissing}.` : '';
  lab.notifier.offer(info.gradientsMissing ? 'warning' : 'info', `LLM Lab runs on the ${info.backend} backend.${others ? ` Not used: ${others}.` : ''}${training}`, {
    'Show Details': () => out.show(),
  });
  return info;
}
