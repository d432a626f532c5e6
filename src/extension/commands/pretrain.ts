// Pretrain on Workspace, Resume Training and Stop Training. Pretrain gathers files, preset and run length
// (from arguments, or by asking), checks the corpus and memory before anything is written, then starts
// the job in the worker. Every dead end says what happened and offers the next step.
import * as vscode from 'vscode';
import { totalmem } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { LlmLabError } from '../../core/errors';
import { PRETRAIN_DEFAULTS } from '../../core/train/options';
import { PRESETS, PRESET_NAMES, countParameters, formatBytes, isPresetName } from '../../core/model/config';
import { memoryCheck, minimumTokens } from '../preflight';
import type { GptConfig, PresetName } from '../../core/model/config';
import type { TrainJob } from '../../protocol/worker';
import { isFinetuneJob } from '../../protocol/worker';
import { countCodeFiles } from '../codeFiles';
import { findCorpusFiles } from '../corpusFiles';
import type { Lab } from '../lab';
import { prepareRunsFolder, runsFolder, workspaceRoot } from '../lab';
import { checkJobFiles, describeRunsFolder, listRuns, readRunRecord, reserveRunName, writeRunRecord } from '../runs';
import { readSettings } from '../settings';
import type { TrainOutcome } from '../training';

/** Arguments for running the command without questions (tests, walkthrough links, the panel). */
export interface PretrainArgs {
  /** Train on the bundled sample (The Verdict) instead of workspace files. */
  sample?: boolean;
  /** Files to use (absolute or relative to the workspace folder). */
  files?: string[];
  /** Globs to search for when no files are given. */
  include?: string[];
  preset?: string;
  steps?: number;
  batchSize?: number;
  contextLength?: number;
  learningRate?: number;
  evalEvery?: number;
  checkpointEvery?: number;
  seed?: number;
  samplePrompt?: string;
  /** Fill-in-the-middle rate (0..1); when absent the command asks for code files, and uses none otherwise. */
  fimRate?: number;
  /** Skip the confirmation. */
  yes?: boolean;
}

const STEP_CHOICES = [
  { label: 'Quick look', steps: 50 },
  { label: 'Short', steps: 200 },
  { label: 'Medium', steps: 1000 },
  { label: 'Long', steps: 5000 },
];

async function askPreset(initial: string, batchSize: number): Promise<PresetName | undefined> {
  const items = PRESET_NAMES.map((name) => {
    const c = PRESETS[name];
    const m = memoryCheck(c, batchSize);
    return {
      label: name,
      description: `${(countParameters(c) / 1e6).toFixed(1)}M parameters · context ${c.contextLength}`,
      detail: `Training needs about ${formatBytes(m.needed)}${m.fits ? '' : ' — more than this machine has'}`,
      picked: name === initial,
    };
  });
  items.sort((a, b) => Number(b.label === initial) - Number(a.label === initial));
  const pick = await vscode.window.showQuickPick(items, { title: 'LLM Lab: model preset', placeHolder: 'Which model to train' });
  return pick?.label as PresetName | undefined;
}

/** Fill-in-the-middle for a corpus with code: the rate to train with (0: off), undefined when dismissed. */
async function askFim(rate: number, code: number, total: number): Promise<number | undefined> {
  const pct = Math.round(rate * 100);
  const pick = await vscode.window.showQuickPick(
    [
      { label: 'Fill-in-the-middle', description: `${pct}% of the files`, detail: 'Inline completions from the model will also use the text after the cursor (three tokens are added to the vocabulary).', rate },
      { label: 'Left to right only', description: 'no fill-in-the-middle', detail: 'Completions see only the text before the cursor.', rate: 0 },
    ],
    { title: `LLM Lab: ${code} of ${total} files are code`, placeHolder: 'Train the model to fill in the middle?' },
  );
  return pick?.rate;
}

async function askSteps(initial: number): Promise<number | undefined> {
  const items = [
    ...STEP_CHOICES.map((c) => ({ label: `${c.label}`, description: `${c.steps.toLocaleString('en-US')} steps`, steps: c.steps })),
    { label: 'Custom…', description: `e.g. ${initial}`, steps: 0 },
  ];
  const pick = await vscode.window.showQuickPick(items, { title: 'LLM Lab: run length', placeHolder: 'How long to train' });
  if (!pick) return undefined;
  if (pick.steps) return pick.steps;
  const typed = await vscode.window.showInputBox({
    title: 'LLM Lab: training steps', value: String(initial),
    validateInput: (v) => (/^\d+$/.test(v.trim()) && Number(v) > 0 ? undefined : 'A positive whole number of steps'),
  });
  return typed ? Number(typed.trim()) : undefined;
}

export async function pretrainCommand(lab: Lab, args: PretrainArgs = {}): Promise<TrainOutcome | undefined> {
  const s = readSettings();
  const interactive = !args.yes;
  if (lab.training.isRunning) {
    lab.notifier.offer('warning', `Training "${lab.training.current?.runName}" is already running; one runs at a time.`, {
      'Stop Training': () => vscode.commands.executeCommand('llmLab.stopTraining'),
    });
    return undefined;
  }
  const root = workspaceRoot();
  const folder = vscode.workspace.workspaceFolders?.find((f) => f.uri.scheme === 'file');
  const runs = runsFolder();
  if (!root || !folder || !runs) {
    lab.notifier.offer('error', 'Open a folder first: LLM Lab keeps runs in the workspace (.llm-lab/runs).', {
      'Open Folder': () => vscode.commands.executeCommand('vscode.openFolder'),
    });
    return undefined;
  }

  // 1. Files.
  let files: string[];
  let what: string;
  if (args.sample) {
    files = [lab.context.asAbsolutePath(join('samples', 'the-verdict.txt'))];
    what = 'the sample "The Verdict"';
  } else if (args.files) {
    files = args.files.map((f) => (isAbsolute(f) ? f : resolve(root, f)));
    what = `${files.length} file${files.length === 1 ? '' : 's'}`;
  } else {
    let include = args.include ?? s.include;
    if (interactive && !args.include) {
      const typed = await vscode.window.showInputBox({
        title: 'LLM Lab: files to train on', prompt: 'Glob patterns, comma-separated (files.exclude and .gitignore are respected)',
        value: include.join(', '),
      });
      if (typed === undefined) return undefined;
      include = typed.split(',').map((g) => g.trim()).filter(Boolean);
    }
    files = await findCorpusFiles(folder, include, s.exclude, runs);
    what = include.join(', ');
    if (files.length === 0) {
      lab.notifier.offer('error', `No files in the workspace match ${what} (after files.exclude, llmLab.pretrain.exclude and .gitignore). Pick other files.`, {
        'Pick Other Files': () => pretrainCommand(lab, { ...args, include: undefined, yes: false }),
        'Open Settings': () => vscode.commands.executeCommand('workbench.action.openSettings', 'llmLab.pretrain'),
      });
      return undefined;
    }
  }

  // 2. Preset, length.
  const batchSize = args.batchSize ?? s.batchSize;
  const preset: string | undefined = args.preset ?? (interactive ? await askPreset(s.preset, batchSize) : s.preset);
  if (!preset) return undefined;
  if (!isPresetName(preset)) throw new LlmLabError('bad-argument', `Unknown preset "${preset}"; use one of ${PRESET_NAMES.join(', ')}.`);
  const steps = args.steps ?? (interactive ? await askSteps(s.steps) : s.steps);
  if (!steps) return undefined;
  const config: GptConfig = { ...PRESETS[preset], ...(args.contextLength ? { contextLength: args.contextLength } : {}) };

  // Code: offer fill-in-the-middle, so that completions from the model also use the text after the cursor.
  let fimRate = args.fimRate ?? 0;
  if (args.fimRate === undefined && interactive && s.fimRate > 0) {
    const code = countCodeFiles(files);
    if (code > 0) {
      const asked = await askFim(s.fimRate, code, files.length);
      if (asked === undefined) return undefined;
      fimRate = asked;
    }
  }

  // 3. Memory, before reading anything heavy.
  const mem = memoryCheck(config, batchSize);
  if (!mem.fits) {
    lab.notifier.offer('error', `Preset ${preset} needs about ${formatBytes(mem.needed)} to train with batch ${batchSize}; this machine has ${formatBytes(totalmem())}. Choose a smaller preset.`, {
      'Choose a Smaller Preset': () => pretrainCommand(lab, { ...args, preset: undefined, yes: false }),
    });
    return undefined;
  }

  // 4. Corpus: what is usable and how big, read in the worker.
  let scan;
  try {
    scan = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `LLM Lab: reading ${files.length} file${files.length === 1 ? '' : 's'}…` },
      () => lab.worker.request('corpus/scan', { files, maxFileBytes: s.maxFileBytes }),
    );
  } catch (e) {
    // Only binaries, undecodable or oversized files, or paths that do not exist: nothing to train on.
    if (!(e instanceof LlmLabError && (e.code === 'bad-data' || e.code === 'not-found'))) throw e;
    lab.notifier.offer('error', `${e.message}`, {
      'Pick Other Files': () => pretrainCommand(lab, { ...args, files: undefined, include: undefined, sample: false, yes: false }),
    });
    return undefined;
  }
  const skippedNote = scan.skipped.length ? ` Skipped ${scan.skipped.length}: ${scan.skipped.slice(0, 3).map((k) => `${vscode.workspace.asRelativePath(k.path)} (${k.reason})`).join(', ')}${scan.skipped.length > 3 ? ', …' : ''}.` : '';
  if (scan.files.length === 0) {
    lab.notifier.offer('error', `None of the files matching ${what} can be used for training.${skippedNote} Pick other files.`, {
      'Pick Other Files': () => pretrainCommand(lab, { ...args, files: undefined, include: undefined, sample: false, yes: false }),
    });
    return undefined;
  }
  if (scan.tokens < minimumTokens(config.contextLength)) {
    lab.notifier.offer('error', `The corpus has ${scan.tokens} tokens, fewer than one context window of preset ${preset} (${minimumTokens(config.contextLength)} tokens). Add more text or pick other files.`, {
      'Pick Other Files': () => pretrainCommand(lab, { ...args, files: undefined, include: undefined, sample: false, yes: false }),
    });
    return undefined;
  }

  // 5. Confirm.
  if (interactive) {
    const params = (countParameters(config) / 1e6).toFixed(1);
    const a = await vscode.window.showInformationMessage(
      `Train ${preset} (${params}M parameters) on ${scan.files.length} file${scan.files.length === 1 ? '' : 's'}, ${scan.tokens.toLocaleString('en-US')} tokens, for ${steps} steps${fimRate > 0 ? `, with fill-in-the-middle on ${Math.round(fimRate * 100)}% of the files` : ''}?`,
      { modal: true, detail: `Memory needed: about ${formatBytes(mem.needed)}.${skippedNote}\n${describeRunsFolder(runs, root).text}` },
      'Start Training',
    );
    if (!a) return undefined;
  }

  // 6. The run folder; nothing is written before this point.
  if (!(await prepareRunsFolder(lab, runs))) return undefined;
  const runName = await reserveRunName(runs, preset);
  const job: TrainJob = {
    runDir: join(runs, runName), files: scan.files.map((f) => f.path), preset, steps, batchSize,
    learningRate: args.learningRate ?? s.learningRate, evalEvery: args.evalEvery ?? s.evalEvery,
    checkpointEvery: args.checkpointEvery ?? s.checkpointEvery, seed: args.seed ?? PRETRAIN_DEFAULTS.seed, maxFileBytes: s.maxFileBytes, resume: false,
    ...(args.contextLength ? { contextLength: args.contextLength } : {}),
    ...(args.samplePrompt ? { samplePrompt: args.samplePrompt } : {}),
    ...(fimRate > 0 ? { fimRate } : {}),
  };
  await writeRunRecord(job.runDir, { version: 1, name: runName, createdAt: new Date().toISOString(), job });
  lab.output.appendLine(`Corpus: ${scan.files.length} files, ${scan.tokens} tokens.${skippedNote}`);
  lab.output.appendLine(`${describeRunsFolder(runs, root).text} Run folder: ${job.runDir}`);
  return lab.training.start(runName, job);
}

export async function resumeCommand(lab: Lab, args: { runDir?: string } = {}): Promise<TrainOutcome | undefined> {
  if (lab.training.isRunning) {
    lab.notifier.offer('warning', `Training "${lab.training.current?.runName}" is already running; stop it before resuming another.`, {
      'Stop Training': () => vscode.commands.executeCommand('llmLab.stopTraining'),
    });
    return undefined;
  }
  const runs = runsFolder();
  let runDir = args.runDir;
  if (!runDir) {
    const all = runs ? (await listRuns(runs)).filter((r) => r.record) : [];
    if (all.length === 0) {
      lab.notifier.offer('info', 'There is no run to resume in this workspace.', {
        'Pretrain on Workspace': () => vscode.commands.executeCommand('llmLab.pretrain'),
      });
      return undefined;
    }
    const pick = await vscode.window.showQuickPick(
      all.map((r) => ({ label: r.name, description: r.latestModel ? 'has a checkpoint' : 'no checkpoint yet', detail: r.dir, dir: r.dir })),
      { title: 'LLM Lab: resume which run?' },
    );
    if (!pick) return undefined;
    runDir = pick.dir;
  }
  const record = await readRunRecord(runDir);
  const files = await checkJobFiles(record, runDir, workspaceRoot());
  const job = isFinetuneJob(record.job) ? { ...record.job, runDir, resume: true } : { ...record.job, files, runDir, resume: true };
  return lab.training.start(record.name, job);
}

export async function stopCommand(lab: Lab): Promise<TrainOutcome | undefined> {
  if (!lab.training.isRunning) {
    void lab.notifier.info('No training is running.');
    return undefined;
  }
  return lab.training.stop();
}
