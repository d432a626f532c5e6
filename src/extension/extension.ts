// LLM Lab's VS Code entry: builds the shared services (worker client, training controller, token view,
// selected model, inline completions), registers the commands, and returns them as the extension's API (the
// panel and the integration tests use it). It activates when the editor has started, to offer inline
// completions; no worker starts and nothing is counted until a person uses LLM Lab or turns completions on.
import * as vscode from 'vscode';
import { LlmLabError } from '../core/errors';
import { completionModelDir } from './completion/modelChoice';
import { InlineCompletionProvider, inlineCompletionProvider } from './completion/provider';
import { CompletionStatusItem, TOGGLE_COMMAND, toggleInlineCompletion } from './completion/statusItem';
import { downloadGpt2Command } from './commands/download';
import type { TrainTokenizerArgs } from './commands/trainTokenizer';
import { trainTokenizerCommand } from './commands/trainTokenizer';
import { generateCommand, evaluateCommand, selectModelCommand, showEngineCommand } from './commands/models';
import { askModelCommand, mergeLoraCommand } from './commands/instruct';
import { classifySelectionCommand } from './commands/classifySelection';
import type { ClassifyArgs } from './commands/classifySelection';
import type { Lab } from './lab';
import { ActiveModel, workspaceRoot } from './lab';
import { Notifier } from './notify';
import type { ShownMessage } from './notify';
import type { PanelBackend } from './panel/backend';
import { registerLabPanel } from './panel/labPanel';
import { createPanelBackend } from './panelBackend';
import { readSettings } from './settings';
import { TokenCountItem } from './tokens/tokenCount';
import type { TokenizerChoice } from './tokens/tokenizerChoice';
import { encodingChoice, trainedChoice } from './tokens/tokenizerChoice';
import { TokenView } from './tokens/tokenView';
import { TrainingController } from './training';
import { TrainingService } from './trainingService';
import type { FinetuneArgs, PretrainArgs } from './trainingService';
import { WorkerClient } from './workerClient';

/** What `activate` returns: the services, and the messages shown so far (for tests). */
export interface LlmLabApi {
  lab: Lab;
  /** What the lab panel talks to (training events, attention, generation, model info, data windows). */
  panel(): PanelBackend;
  /** The inline completion provider (its cache and statistics). */
  completions: InlineCompletionProvider;
  completionStatus: CompletionStatusItem;
  messages(): readonly ShownMessage[];
}

/** Niceness of the worker that trains (0 is normal, 19 the lowest priority). */
const TRAINING_NICENESS = 10;

function workerOptions(context: vscode.ExtensionContext, output: vscode.OutputChannel, role = '') {
  const s = readSettings();
  return {
    workerPath: context.asAbsolutePath('dist/worker.js'),
    env: { LLM_LAB_BACKEND: s.backend },
    execArgv: s.workerMaxMemoryMB > 0 ? [`--max-old-space-size=${s.workerMaxMemoryMB}`] : [],
    log: (line: string) => output.appendLine(role ? `[${role}] ${line}` : line),
  };
}

export function activate(context: vscode.ExtensionContext): LlmLabApi {
  const output = vscode.window.createOutputChannel('LLM Lab');
  const notifier = new Notifier(output);
  // Training runs at a lower CPU priority, so the editor and the completions' worker come first on a busy CPU.
  const worker = new WorkerClient({ ...workerOptions(context, output), niceness: TRAINING_NICENESS });
  // Inline completions get a worker process of their own, so a suggestion never waits behind a training step.
  const inference = new WorkerClient(workerOptions(context, output, 'inference'));
  const model = new ActiveModel(context.workspaceState);
  const encoding = async (): Promise<TokenizerChoice> => {
    const s = readSettings();
    if (s.encoding === 'model') return model.tokenizer(worker);
    if (s.encoding === 'trained') return trainedChoice(s.trainedTokenizer, workspaceRoot());
    return encodingChoice(s.encoding);
  };
  const training = new TrainingController(worker, output, notifier);
  const tokens = new TokenView(worker);
  // The live count starts once LLM Lab is used (a command, the panel), not merely because the editor started.
  let used = false;
  const tokenCount = new TokenCountItem(worker, encoding, () => used && readSettings().showCount);
  const markUsed = () => {
    if (used) return;
    used = true;
    void tokenCount.schedule(0);
  };
  const lab = { context, output, notifier, worker, inference, training, tokens, tokenCount, model } as Omit<Lab, 'trainer'> as Lab;
  lab.trainer = new TrainingService(lab);
  context.subscriptions.push(output, training, tokens, tokenCount, model, { dispose: () => worker.dispose() }, { dispose: () => inference.dispose() });

  const completionModel = (s = readSettings().completion) => completionModelDir(s.model, workspaceRoot(), model.dir);
  const completions = new InlineCompletionProvider({
    worker: () => inference,
    modelDir: (s) => completionModel(s),
    log: (line) => output.appendLine(line),
  });
  const completionStatus = new CompletionStatusItem(completions, () => completionModel(), model.onDidChange);
  context.subscriptions.push(
    completions,
    completionStatus,
    vscode.languages.registerInlineCompletionItemProvider([{ scheme: 'file' }, { scheme: 'untitled' }], inlineCompletionProvider(completions)),
    model.onDidChange(() => completions.cache.clear()),
  );

  worker.onDidExit((exit) => {
    // A crash during training is reported by the training controller (with Resume); say so otherwise too.
    if (!exit.expected && !exit.pending.includes('train/start')) {
      const what = exit.pending.length ? ` while running ${exit.pending.join(', ')}` : '';
      notifier.offer('error', `The LLM Lab worker process stopped unexpectedly${what} (${exit.signal ?? `code ${exit.code}`}). It restarts on the next command.`, {
        'Show Log': () => output.show(),
      });
    }
  });
  training.onDidEnd((o) => {
    if (o.checkpointDir && (o.status === 'completed' || !model.dir)) void model.set(o.checkpointDir);
  });
  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('llmLab.backend') || e.affectsConfiguration('llmLab.worker.maxMemoryMB')) {
        if (worker.inFlight.length === 0) void worker.restart();
        if (inference.inFlight.length === 0) void inference.restart();
      }
      if (e.affectsConfiguration('llmLab.inlineCompletion')) completions.cache.clear();
    }),
  );

  const register = <A extends unknown[], R>(id: string, title: string, fn: (...args: A) => Promise<R>) => {
    context.subscriptions.push(
      vscode.commands.registerCommand(id, async (...args: A) => {
        markUsed();
        try {
          return await fn(...args);
        } catch (e) {
          if (e instanceof vscode.CancellationError) return undefined;
          notifier.fail(title, e);
          return undefined;
        }
      }),
    );
  };

  register('llmLab.tokenizeSelection', 'Tokenize Selection', async () => {
    const editor = vscode.window.activeTextEditor;
    if (!editor) throw new LlmLabError('bad-argument', 'Open a file and select some text, then run Tokenize Selection.');
    const s = readSettings();
    const enc = await encoding();
    const state = await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: 'Tokenizing…' }, () =>
      tokens.tokenize(editor, enc, s.maxDrawnTokens),
    );
    // Collapse the selection to its cursor: the selection highlight would hide the token colours.
    if (!editor.selection.isEmpty && vscode.window.activeTextEditor === editor) {
      editor.selection = new vscode.Selection(editor.selection.active, editor.selection.active);
    }
    void tokenCount.schedule(0);
    if (state.truncated) {
      notifier.offer('info', `Drew the first ${state.drawn.toLocaleString('en-US')} of ${state.count.toLocaleString('en-US')} tokens (setting llmLab.tokenizer.maxDrawnTokens); the count is exact.`);
    }
    return { count: state.count, drawn: state.drawn, truncated: state.truncated, encoding: state.encoding };
  });
  register('llmLab.clearTokens', 'Clear Tokens', async () => {
    const editor = vscode.window.activeTextEditor;
    tokens.clear(editor?.document.uri);
    return true;
  });
  register('llmLab.pretrain', 'Pretrain on Workspace', (args?: PretrainArgs) => lab.trainer.pretrain(args ?? {}));
  register('llmLab.finetuneClassifier', 'Fine-tune Classifier', (args?: FinetuneArgs) => lab.trainer.finetuneClassifier(args ?? {}));
  register('llmLab.finetuneInstruct', 'Fine-tune on Instructions', (args?: FinetuneArgs) => lab.trainer.finetuneInstruct(args ?? {}));
  register('llmLab.classifySelection', 'Classify Selection', (args?: ClassifyArgs) => classifySelectionCommand(lab, args ?? {}));
  register('llmLab.stopTraining', 'Stop Training', () => lab.trainer.stop());
  register('llmLab.resumeTraining', 'Resume Training', (args?: { runDir?: string }) => lab.trainer.resume(args ?? {}));
  register('llmLab.selectModel', 'Select Model', (args?: { modelDir?: string }) => selectModelCommand(lab, args ?? {}));
  register('llmLab.generateFromSelection', 'Generate from Selection', (args?: Parameters<typeof generateCommand>[1]) => generateCommand(lab, args ?? {}));
  register('llmLab.askModel', 'Ask the Model', (args?: Parameters<typeof askModelCommand>[1]) => askModelCommand(lab, args ?? {}));
  register('llmLab.mergeLora', 'Merge LoRA Adapter', (args?: Parameters<typeof mergeLoraCommand>[1]) => mergeLoraCommand(lab, args ?? {}));
  register('llmLab.evaluateModelOnFile', 'Evaluate Model on File', (args?: { file?: string }) => evaluateCommand(lab, args ?? {}));
  register('llmLab.showEngine', 'Show Engine', () => showEngineCommand(lab));
  register(TOGGLE_COMMAND, 'Toggle Inline Completions', () => toggleInlineCompletion());
  register('llmLab.trainTokenizer', 'Train Tokenizer on Workspace', (args?: TrainTokenizerArgs) => trainTokenizerCommand(lab, args ?? {}));
  register('llmLab.downloadGpt2', 'Download GPT-2', (args?: Parameters<typeof downloadGpt2Command>[1]) => downloadGpt2Command(lab, args ?? {}));

  // The lab panel (src/extension/panel) gets its backend lazily, so the worker starts when the panel is used.
  let panelBackend: PanelBackend | undefined;
  const panel = () => {
    markUsed();
    return (panelBackend ??= createPanelBackend(lab));
  };
  registerLabPanel(context, panel, (line) => output.appendLine(`[panel] ${line}`));

  return { lab, panel, completions, completionStatus, messages: () => notifier.shown };
}

export function deactivate(): void {
  // Everything is disposed through context.subscriptions (the worker is stopped there).
}
