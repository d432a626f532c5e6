// Ask the Model and Merge LoRA Adapter: an instruction to an instruction-tuned model (the selection as its
// input), its response streamed into an editor; and a LoRA adapter merged into its base as a plain model.
import * as vscode from 'vscode';
import { promises as fsp } from 'node:fs';
import { basename, join } from 'node:path';
import { isAdapterFolder } from '../../core/checkpoint/layout';
import { LlmLabError } from '../../core/errors';
import type { ResultOf } from '../../protocol/worker';
import type { Lab } from '../lab';
import { runsFolder, toAbortSignal, workspaceRoot } from '../lab';
import { displayPath, ensureRunsFolder, latestModel, listRuns, modelName } from '../runs';
import { requireModel, streamIntoEditor } from './models';

/** Response tokens Ask the Model allows (the book's 256 for its test-set answers). */
const ASK_TOKENS = 256;

export interface AskArgs {
  instruction?: string;
  /** The input; by default the editor's selection (none when it is empty). */
  input?: string;
  maxNewTokens?: number;
  temperature?: number;
}

/** Asks the selected model; the response streams into a new editor after the instruction and input. */
export async function askModelCommand(lab: Lab, args: AskArgs = {}): Promise<{ text: string; uri: string; promptStyle: string } | undefined> {
  const modelDir = await requireModel(lab);
  if (!modelDir) return undefined;
  const editor = vscode.window.activeTextEditor;
  const selection = editor && !editor.selection.isEmpty ? editor.document.getText(editor.selection) : '';
  const input = args.input ?? selection;
  const instruction =
    args.instruction ??
    (await vscode.window.showInputBox({
      title: 'LLM Lab: Ask the Model',
      prompt: input ? 'Instruction (the selection is its input)' : 'Instruction',
      placeHolder: 'e.g. Rewrite the sentence in passive voice.',
      ignoreFocusOut: true,
    }));
  if (instruction === undefined) return undefined;
  if (!instruction.trim()) throw new LlmLabError('bad-argument', 'The instruction is empty: type what the model should do.');
  const header = `### Instruction\n${instruction}\n` + (input ? `\n### Input\n${input}\n` : '') + '\n### Response\n';
  const { result, uri } = await streamIntoEditor(header, `LLM Lab: asking ${modelName(modelDir)}`, (signal, onText) =>
    lab.worker.request(
      'ask',
      { modelDir, instruction, input, maxNewTokens: args.maxNewTokens ?? ASK_TOKENS, temperature: args.temperature ?? 0 },
      { signal, onNotify: (n) => { if (n.method === 'generate/didToken') onText(n.params.text); } },
    ),
  );
  lab.output.appendLine(`Ask ${basename(modelDir)} (${result.promptStyle} prompt): ${result.tokens} tokens${result.stoppedAtEot ? '' : ' (stopped at the limit)'}.`);
  return { text: result.text, uri, promptStyle: result.promptStyle };
}

/** LoRA adapter folders among the runs, newest first. */
async function adapterRuns(): Promise<{ name: string; dir: string }[]> {
  const runs = runsFolder();
  const out: { name: string; dir: string }[] = [];
  for (const r of runs ? await listRuns(runs) : []) {
    if (r.latestModel && (await isAdapterFolder(r.latestModel))) out.push({ name: r.name, dir: r.latestModel });
  }
  return out;
}

/** A folder name beside the runs that does not exist yet: `<name>-merged`, `<name>-merged-2`, … */
async function freshFolder(parent: string, name: string): Promise<string> {
  for (let i = 1; ; i++) {
    const dir = join(parent, i === 1 ? `${name}-merged` : `${name}-merged-${i}`);
    try {
      await fsp.access(dir);
    } catch {
      return dir;
    }
  }
}

export interface MergeArgs {
  /** The adapter folder (or a LoRA run); default: the selected model when it is one, else a pick. */
  adapterDir?: string;
  /** A new folder for the merged model; default `<runs>/<adapter>-merged`. */
  outDir?: string;
}

/** Merges a LoRA adapter into its base and offers to select the merged model. */
export async function mergeLoraCommand(lab: Lab, args: MergeArgs = {}): Promise<ResultOf<'lora/merge'> | undefined> {
  let adapterDir = args.adapterDir;
  if (!adapterDir) {
    const selected = lab.model.dir;
    const candidates = await adapterRuns();
    const root = workspaceRoot();
    type Item = vscode.QuickPickItem & { dir?: string };
    const items: Item[] = candidates.map((c) => ({ label: c.name, description: c.dir === selected ? '(selected)' : undefined, detail: displayPath(c.dir, root), dir: c.dir }));
    items.push({ label: '$(folder-opened) Pick an adapter folder…', detail: 'A folder with adapter.json and adapter.safetensors' });
    const pick = await vscode.window.showQuickPick(items, { title: 'LLM Lab: merge which LoRA adapter into its base?', placeHolder: candidates.length ? 'LoRA runs of this workspace' : 'No LoRA runs yet: pick a folder' });
    if (!pick) return undefined;
    adapterDir = pick.dir;
    if (!adapterDir) {
      const picked = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, openLabel: 'Merge This Adapter' });
      if (!picked?.[0]) return undefined;
      adapterDir = picked[0].fsPath;
    }
  }
  const resolved = (await isAdapterFolder(adapterDir)) ? adapterDir : await latestModel(adapterDir);
  if (!resolved || !(await isAdapterFolder(resolved))) {
    throw new LlmLabError('bad-checkpoint', `${adapterDir} holds no LoRA adapter (adapter.json); pick the folder of a LoRA fine-tuning.`);
  }
  const runs = runsFolder();
  if (!args.outDir && !runs) throw new LlmLabError('bad-argument', 'Open a workspace folder to hold the merged model.');
  if (runs) await ensureRunsFolder(runs);
  // Named after the run (`<run>-merged`), not after its checkpoint folder (`step-000010`).
  const outDir = args.outDir ?? (await freshFolder(runs!, modelName(resolved)));
  const res = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `LLM Lab: merging ${modelName(resolved)} into its base`, cancellable: true },
    (_p, token) => lab.worker.request('lora/merge', { adapterDir: resolved, outDir }, { signal: toAbortSignal(token) }),
  );
  lab.output.appendLine(`Merged ${res.sites} adapted layers of ${resolved} into ${res.base}: ${res.outDir}`);
  lab.notifier.offer('info', `Merged the adapter into a plain model: ${displayPath(res.outDir, workspaceRoot())}.`, {
    'Select Model': () => vscode.commands.executeCommand('llmLab.selectModel', { modelDir: res.outDir }),
  });
  return res;
}
