// Classify Selection: the class a classifier gives the selected text (or the current line), with every
// class's probability. The classifier is the selected model when it is one, else one of the workspace's
// classifier runs, picked.
import * as vscode from 'vscode';
import { basename } from 'node:path';
import { LlmLabError } from '../../core/errors';
import { isFinetuneJob } from '../../protocol/worker';
import type { Lab } from '../lab';
import { runsFolder, toAbortSignal, workspaceRoot } from '../lab';
import { displayPath, listRuns } from '../runs';

export interface ClassifyArgs {
  /** The text; default the selection, or the current line when nothing is selected. */
  text?: string;
  /** The classifier; default the selected model when it is one, else a pick. */
  modelDir?: string;
}

export interface ClassifyOutcome {
  modelDir: string;
  label: string;
  probabilities: Record<string, number>;
  /** The classes in the classifier's order. */
  labels: string[];
}

/** Whether the worker sees a classifier in `dir`. */
async function classesOf(lab: Lab, dir: string): Promise<string[] | undefined> {
  const info = await lab.worker.request('model/info', { modelDir: dir }).catch(() => undefined);
  return info?.classes;
}

async function pickClassifier(lab: Lab): Promise<string | undefined> {
  const runs = runsFolder();
  const found = (runs ? await listRuns(runs) : []).filter((r) => r.latestModel && r.record && isFinetuneJob(r.record.job) && r.record.job.task === 'classify');
  if (found.length === 0) {
    lab.notifier.offer('error', 'No classifier to use: the selected model is not one, and no classifier has been fine-tuned in this workspace yet.', {
      'Fine-tune Classifier': () => vscode.commands.executeCommand('llmLab.finetuneClassifier'),
      'Select Model': () => vscode.commands.executeCommand('llmLab.selectModel'),
    });
    return undefined;
  }
  if (found.length === 1) return found[0].latestModel;
  const root = workspaceRoot();
  const pick = await vscode.window.showQuickPick(
    found.map((r) => ({ label: r.name, detail: displayPath(r.latestModel!, root), dir: r.latestModel! })),
    { title: 'LLM Lab: classify with which classifier?' },
  );
  return pick?.dir;
}

export async function classifySelectionCommand(lab: Lab, args: ClassifyArgs = {}): Promise<ClassifyOutcome | undefined> {
  let text = args.text;
  if (text === undefined) {
    const editor = vscode.window.activeTextEditor;
    if (!editor) throw new LlmLabError('bad-argument', 'Select some text in an editor, then run Classify Selection.');
    const sel = editor.selection;
    text = sel.isEmpty ? editor.document.lineAt(sel.active.line).text : editor.document.getText(sel);
  }
  if (!text.trim()) throw new LlmLabError('bad-argument', 'The selection is empty: select the text to classify.');
  let modelDir = args.modelDir;
  if (!modelDir) {
    const selected = lab.model.dir;
    modelDir = selected && (await classesOf(lab, selected)) ? selected : await pickClassifier(lab);
    if (!modelDir) return undefined;
  }
  const r = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Window, title: `LLM Lab: classifying with ${basename(modelDir)}`, cancellable: true },
    (_p, token) => lab.worker.request('classify', { modelDir: modelDir!, texts: [text!] }, { signal: toAbortSignal(token) }),
  );
  const p = r.predictions[0];
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  const all = r.labels.map((l) => `${l} ${pct(p.probabilities[l] ?? 0)}`).join(' · ');
  lab.output.appendLine(`Classify with ${modelDir}: ${p.label} (${all}) for ${JSON.stringify(text.length > 200 ? `${text.slice(0, 200)}…` : text)}`);
  void lab.notifier.info(`${basename(modelDir)}: “${p.label}” (${pct(p.probabilities[p.label] ?? 0)}). ${all}`);
  return { modelDir, label: p.label, probabilities: p.probabilities, labels: r.labels };
}
