// Fine-tune Classifier and Fine-tune on Instructions. Each asks (unless its arguments say) for the data file,
// the base model and what trains — a choice of layers, or LoRA with its rank, alpha and targets — and how
// many epochs; the worker then reads and checks the data and the base without loading weights, and a summary
// (classes and their rows, the split, lengths in tokens, trainable parameters, memory) asks to start. Only
// then is the run folder made; the run goes through the training controller like pretraining, so progress,
// cancel, crash handling and Resume Training are the same.
import * as vscode from 'vscode';
import { basename, isAbsolute, resolve } from 'node:path';
import { LlmLabError } from '../../core/errors';
import type { FinetuneJob, FinetunePlan, LoraChoice } from '../../protocol/worker';
import { planSummary } from '../finetuneSummary';
import type { Lab } from '../lab';
import { prepareRunsFolder, runsFolder, workspaceRoot } from '../lab';
import { describeRunsFolder, modelName, newRunName, reserveRunName, writeRunRecord } from '../runs';
import { readSettings } from '../settings';
import type { TrainOutcome } from '../training';
import type { BaseChoice } from './finetunePicks';
import { askCount, pickBaseModel, pickDataFile, pickLora } from './finetunePicks';

/** Arguments for running a fine-tuning command without some or all of its questions (tests, the panel). */
export interface FinetuneArgs {
  /** The data file, absolute or relative to the workspace folder. */
  dataFile?: string;
  /** The base model folder, or a preset's fresh weights. */
  modelDir?: string;
  preset?: string;
  contextLength?: number;
  /** Classifier: what trains without LoRA ('last-block', 'head', 'last-N', 'all'). */
  trainable?: string;
  /** LoRA adapters (rank, alpha, targets); false trains the model's own weights without asking. */
  lora?: LoraChoice | false;
  epochs?: number;
  batchSize?: number;
  learningRate?: number;
  evalEvery?: number;
  checkpointEvery?: number;
  seed?: number;
  /** Classifier: balance the classes, data columns, split fractions, padded length cap. */
  balance?: boolean;
  textField?: string;
  labelField?: string;
  valFraction?: number;
  testFraction?: number;
  maxLength?: number;
  /** Instructions: prompt style, masking, and the test split's answers after training (their length). */
  promptStyle?: 'alpaca' | 'phi3';
  maskPrompt?: boolean;
  responses?: boolean;
  maxResponseTokens?: number;
  /** Ask nothing (defaults for anything not given) and start without the summary. */
  yes?: boolean;
}

/** The book's defaults, shown as the first answer to "how many epochs". */
const DEFAULT_EPOCHS = { classify: 5, instruct: 2 } as const;

function resolveFile(file: string): string {
  const root = workspaceRoot();
  return isAbsolute(file) || !root ? file : resolve(root, file);
}

/** Refuses while a run trains or without a workspace; undefined when the command cannot go on. */
function ready(lab: Lab): string | undefined {
  if (lab.training.isRunning) {
    lab.notifier.offer('warning', `Training "${lab.training.current?.runName}" is already running; one runs at a time.`, {
      'Stop Training': () => vscode.commands.executeCommand('llmLab.stopTraining'),
    });
    return undefined;
  }
  const runs = runsFolder();
  if (!runs) {
    lab.notifier.offer('error', 'Open a folder first: LLM Lab keeps fine-tuning runs in the workspace (.llm-lab/runs).', {
      'Open Folder': () => vscode.commands.executeCommand('vscode.openFolder'),
    });
  }
  return runs;
}

async function base(lab: Lab, args: FinetuneArgs, title: string): Promise<BaseChoice | undefined> {
  if (args.modelDir) return { modelDir: resolveFile(args.modelDir) };
  if (args.preset) return { preset: args.preset };
  if (args.yes) throw new LlmLabError('bad-argument', 'Give the base model (modelDir or preset) to fine-tune without questions.');
  return pickBaseModel(lab, title);
}

/** What trains for a classifier: a choice of layers, or LoRA. */
async function classifierTraining(args: FinetuneArgs, title: string): Promise<{ trainable?: string; lora?: LoraChoice } | undefined> {
  if (args.lora) return { lora: args.lora };
  if (args.trainable || args.lora === false || args.yes) return { trainable: args.trainable ?? 'last-block' };
  type Item = vscode.QuickPickItem & { value: string };
  const pick = await vscode.window.showQuickPick<Item>(
    [
      { label: 'Last block', description: 'the last transformer block, the final norm and the new head (the book’s choice)', value: 'last-block' },
      { label: 'Head only', description: 'only the new classification head', value: 'head' },
      { label: 'Last N blocks…', description: 'the last N blocks, the final norm and the head', value: 'last-n' },
      { label: 'All parameters', description: 'every weight of the model', value: 'all' },
      { label: 'LoRA adapters…', description: 'small trained matrices beside the frozen model, the head’s too (rank, alpha, layers)', value: 'lora' },
    ],
    { title: `${title}: what trains`, placeHolder: 'Which parameters fine-tuning changes', ignoreFocusOut: true },
  );
  if (!pick) return undefined;
  if (pick.value === 'lora') {
    const lora = await pickLora(title);
    return lora ? { lora } : undefined;
  }
  if (pick.value === 'last-n') {
    const blocks = await askCount(`${title}: blocks`, 'How many of the last transformer blocks train (with the final norm and the head)', 2);
    return blocks === undefined ? undefined : { trainable: `last-${blocks}` };
  }
  return { trainable: pick.value };
}

/** What trains for instruction fine-tuning: every weight, or LoRA. */
async function instructTraining(args: FinetuneArgs, title: string): Promise<{ lora?: LoraChoice } | undefined> {
  if (args.lora) return { lora: args.lora };
  if (args.lora === false || args.yes) return {};
  const pick = await vscode.window.showQuickPick(
    [
      { label: 'All parameters', description: 'full fine-tuning, as the book’s chapter 7', lora: false },
      { label: 'LoRA adapters…', description: 'small trained matrices beside the frozen model (rank, alpha, layers)', lora: true },
    ],
    { title: `${title}: what trains`, ignoreFocusOut: true },
  );
  if (!pick) return undefined;
  if (!pick.lora) return {};
  const lora = await pickLora(title);
  return lora ? { lora } : undefined;
}

async function epochs(args: FinetuneArgs, task: FinetuneJob['task'], title: string): Promise<number | undefined> {
  if (args.epochs !== undefined || args.yes) return args.epochs ?? DEFAULT_EPOCHS[task];
  return askCount(`${title}: epochs`, 'Passes over the training split', DEFAULT_EPOCHS[task], 1, 10_000);
}

/** The fields every task shares, from the arguments. */
function common(args: FinetuneArgs) {
  const o = {
    contextLength: args.contextLength, batchSize: args.batchSize, learningRate: args.learningRate,
    evalEvery: args.evalEvery, checkpointEvery: args.checkpointEvery, seed: args.seed,
  };
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

export async function finetuneClassifierCommand(lab: Lab, args: FinetuneArgs = {}): Promise<TrainOutcome | undefined> {
  const runs = ready(lab);
  if (!runs) return undefined;
  const title = 'LLM Lab: fine-tune a classifier';
  const dataFile = args.dataFile ? resolveFile(args.dataFile) : args.yes ? undefined : await pickDataFile(title, ['tsv', 'csv', 'jsonl', 'json', 'txt'], 'labelled data');
  if (!dataFile) {
    if (args.yes) throw new LlmLabError('bad-argument', 'Give the data file to fine-tune without questions.');
    return undefined;
  }
  const from = await base(lab, args, title);
  if (!from) return undefined;
  const training = await classifierTraining(args, title);
  if (!training) return undefined;
  const n = await epochs(args, 'classify', title);
  if (n === undefined) return undefined;
  const extra = {
    balance: args.balance, textField: args.textField, labelField: args.labelField,
    valFraction: args.valFraction, testFraction: args.testFraction, maxLength: args.maxLength,
  };
  const job: FinetuneJob = {
    task: 'classify', runDir: '', dataFile, ...from, ...training, epochs: n, ...common(args),
    ...Object.fromEntries(Object.entries(extra).filter(([, v]) => v !== undefined)),
    maxFileBytes: readSettings().maxFileBytes, resume: false,
  };
  return planAndStart(lab, runs, job, args);
}

export async function finetuneInstructCommand(lab: Lab, args: FinetuneArgs = {}): Promise<TrainOutcome | undefined> {
  const runs = ready(lab);
  if (!runs) return undefined;
  const title = 'LLM Lab: fine-tune on instructions';
  const dataFile = args.dataFile ? resolveFile(args.dataFile) : args.yes ? undefined : await pickDataFile(title, ['json', 'jsonl'], 'instruction data');
  if (!dataFile) {
    if (args.yes) throw new LlmLabError('bad-argument', 'Give the data file to fine-tune without questions.');
    return undefined;
  }
  const from = await base(lab, args, title);
  if (!from) return undefined;
  let promptStyle = args.promptStyle;
  if (!promptStyle && !args.yes) {
    const pick = await vscode.window.showQuickPick(
      [
        { label: 'alpaca', description: '“Below is an instruction…”, ### Instruction / ### Input / ### Response (the book’s)', style: 'alpaca' as const },
        { label: 'phi3', description: '<|user|> … <|assistant|>: (the book’s exercise 7.1)', style: 'phi3' as const },
      ],
      { title: `${title}: prompt style`, placeHolder: 'How records become prompts (saved with the model)', ignoreFocusOut: true },
    );
    if (!pick) return undefined;
    promptStyle = pick.style;
  }
  let maskPrompt = args.maskPrompt;
  if (maskPrompt === undefined && !args.yes) {
    const pick = await vscode.window.showQuickPick(
      [
        { label: 'Learn from the whole text', description: 'the loss counts instruction and response (the book’s default)', mask: false },
        { label: 'Mask the prompt', description: 'the loss counts only the response (the book’s exercise 7.2)', mask: true },
      ],
      { title: `${title}: loss`, ignoreFocusOut: true },
    );
    if (!pick) return undefined;
    maskPrompt = pick.mask;
  }
  const training = await instructTraining(args, title);
  if (!training) return undefined;
  const n = await epochs(args, 'instruct', title);
  if (n === undefined) return undefined;
  const job: FinetuneJob = {
    task: 'instruct', runDir: '', dataFile, ...from, ...training, epochs: n, ...common(args),
    ...(promptStyle ? { promptStyle } : {}), ...(maskPrompt !== undefined ? { maskPrompt } : {}),
    ...(args.responses !== undefined ? { responses: args.responses } : {}), ...(args.maxResponseTokens ? { maxResponseTokens: args.maxResponseTokens } : {}),
    resume: false,
  };
  return planAndStart(lab, runs, job, args);
}

/** A run name from the task and the base, e.g. `classify-gpt2-20261130-181500` (a run's checkpoint goes by the run's name). */
function runPrefix(job: FinetuneJob): string {
  return `${job.task}-${job.modelDir ? modelName(job.modelDir) : job.preset}`;
}

/** Plans the job in the worker, shows the summary, then makes the run folder and starts it. */
async function planAndStart(lab: Lab, runs: string, job: FinetuneJob, args: FinetuneArgs): Promise<TrainOutcome | undefined> {
  job.runDir = resolve(runs, await newRunName(runs, runPrefix(job)));
  const dataName = vscode.workspace.asRelativePath(job.dataFile);
  let plan: FinetunePlan;
  try {
    plan = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `LLM Lab: reading ${dataName}…`, cancellable: true },
      (_p, token) => {
        const c = new AbortController();
        token.onCancellationRequested(() => c.abort());
        return lab.worker.request('finetune/plan', job, { signal: c.signal });
      },
    );
  } catch (e) {
    if (!(e instanceof LlmLabError) || e.code === 'cancelled') throw e;
    // Bad data, a missing base, a bad choice: say what, and offer to pick again.
    const again = job.task === 'classify' ? finetuneClassifierCommand : finetuneInstructCommand;
    lab.notifier.offer('error', e.message, { 'Choose Again': () => again(lab, {}) });
    return undefined;
  }
  // A classifier's curves need evaluations during the run: twice an epoch (at most every 50 steps) unless asked.
  if (job.task === 'classify' && job.evalEvery === undefined) job.evalEvery = Math.max(1, Math.min(50, Math.ceil(plan.stepsPerEpoch / 2)));
  const summary = planSummary(plan, dataName);
  lab.output.appendLine(`${summary.message}\n${summary.detail}`);
  if (!plan.fits) {
    lab.notifier.offer('error', `${summary.message.replace(/\?$/, '')} needs about ${(plan.memoryBytes / 1e9).toFixed(1)} GB to train, more than this machine can give. Choose a smaller model, LoRA or fewer trained layers.`, {
      'Choose Again': () => (job.task === 'classify' ? finetuneClassifierCommand(lab, {}) : finetuneInstructCommand(lab, {})),
    });
    return undefined;
  }
  if (!args.yes) {
    const start = await vscode.window.showInformationMessage(summary.message, { modal: true, detail: `${summary.detail}\n${describeRunsFolder(runs, workspaceRoot() ?? runs).text}` }, 'Start Fine-tuning');
    if (start !== 'Start Fine-tuning') return undefined;
  }
  // The run folder; nothing was written before this point.
  if (!(await prepareRunsFolder(lab, runs))) return undefined;
  // The name is taken now, atomically (another window may have started a run of the same name since the plan).
  job.runDir = resolve(runs, await reserveRunName(runs, runPrefix(job)));
  const runName = basename(job.runDir);
  await writeRunRecord(job.runDir, { version: 1, name: runName, createdAt: new Date().toISOString(), job });
  return lab.training.start(runName, job);
}
