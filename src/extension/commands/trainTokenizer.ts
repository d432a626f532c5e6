// Train Tokenizer on Workspace: pick files by glob (as for pretraining), a vocabulary size and a split
// pattern; the worker learns a byte-level BPE tokenizer with progress and cancel, saves it under
// `.llm-lab/tokenizers/<name>`, and the result says how it compresses those files against GPT-2's tokenizer.
import * as path from 'node:path';
import { promises as fsp } from 'node:fs';
import * as vscode from 'vscode';
import { LlmLabError } from '../../core/errors';
import type { ResultOf } from '../../protocol/worker';
import { findCorpusFiles } from '../corpusFiles';
import type { Lab } from '../lab';
import { runsFolder, toAbortSignal, workspaceRoot } from '../lab';
import { readSettings } from '../settings';

export interface TrainTokenizerArgs {
  /** Glob patterns (default: the pretraining include setting, asked for when interactive). */
  include?: string[];
  /** Files to train on instead of globs (absolute or relative to the workspace folder). */
  files?: string[];
  vocabSize?: number;
  pattern?: 'gpt2' | 'gpt4';
  /** Folder name under .llm-lab/tokenizers (default tokenizer-<size>-<pattern>, made unique). */
  name?: string;
  /** No questions and no closing message (for automation and tests). */
  quiet?: boolean;
}

const SIZES = [1024, 4096, 8192, 16384, 32768];

async function freeFolder(parent: string, name: string): Promise<string> {
  for (let k = 1; ; k++) {
    const dir = path.join(parent, k === 1 ? name : `${name}-${k}`);
    if (!(await fsp.stat(dir).then(() => true, () => false))) return dir;
  }
}

export async function trainTokenizerCommand(lab: Lab, args: TrainTokenizerArgs = {}): Promise<ResultOf<'tokenizer/train'> | undefined> {
  const root = workspaceRoot();
  const folder = vscode.workspace.workspaceFolders?.find((f) => f.uri.scheme === 'file');
  if (!root || !folder) throw new LlmLabError('bad-argument', 'Open a folder first: Train Tokenizer on Workspace learns from its files.');
  const s = readSettings();
  const interactive = !args.quiet;
  let files: string[];
  let what: string;
  if (args.files) {
    files = args.files.map((f) => (path.isAbsolute(f) ? f : path.resolve(root, f)));
    what = `${files.length} file${files.length === 1 ? '' : 's'}`;
  } else {
    let include = args.include ?? s.include;
    if (interactive && !args.include) {
      const typed = await vscode.window.showInputBox({
        title: 'LLM Lab: files to train the tokenizer on', prompt: 'Glob patterns, comma-separated (files.exclude and .gitignore are respected)',
        value: include.join(', '),
      });
      if (typed === undefined) return undefined;
      include = typed.split(',').map((g) => g.trim()).filter(Boolean);
    }
    files = await findCorpusFiles(folder, include, s.exclude, runsFolder());
    what = include.join(', ');
    if (files.length === 0) {
      throw new LlmLabError('not-found', `No files in the workspace match ${what} (after files.exclude, llmLab.pretrain.exclude and .gitignore); pick other globs.`);
    }
  }
  let vocabSize = args.vocabSize;
  if (vocabSize === undefined) {
    const pick = await vscode.window.showQuickPick(
      SIZES.map((n) => ({ label: n.toLocaleString('en-US'), description: n === 8192 ? 'a good start for one project' : undefined, n })),
      { title: 'LLM Lab: vocabulary size', placeHolder: 'Tokens in all (256 bytes + learned merges + <|endoftext|>); GPT-2 has 50,257' },
    );
    if (!pick) return undefined;
    vocabSize = pick.n;
  }
  let pattern = args.pattern;
  if (pattern === undefined) {
    const pick = await vscode.window.showQuickPick(
      [
        { label: 'gpt2', description: "GPT-2's split: words with their leading space, runs of digits, punctuation, spaces" },
        { label: 'gpt4', description: "GPT-4's split: also case-insensitive contractions, digits in threes, newlines kept apart" },
      ],
      { title: 'LLM Lab: how text is split before merging' },
    );
    if (!pick) return undefined;
    pattern = pick.label as 'gpt2' | 'gpt4';
  }
  const parent = path.join(root, '.llm-lab', 'tokenizers');
  const outDir = await freeFolder(parent, args.name ?? `tokenizer-${vocabSize}-${pattern}`);
  const name = path.basename(outDir);
  lab.output.appendLine(`Train tokenizer ${name}: ${files.length} files (${what}), ${vocabSize} tokens, ${pattern} split, into ${outDir}`);
  const result = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `LLM Lab: training tokenizer ${name}`, cancellable: true },
    async (progress, token) => {
      let shown = 0;
      return lab.worker.request(
        'tokenizer/train',
        { files, maxFileBytes: s.maxFileBytes, vocabSize: vocabSize!, pattern: pattern!, outDir, name },
        {
          signal: toAbortSignal(token),
          onNotify: (n) => {
            if (n.method !== 'tokenizer/didProgress') return;
            const p = n.params;
            // Counting is about the first fifth of the work, merging the rest.
            const pct = Math.floor(p.phase === 'count' ? (20 * p.done) / Math.max(1, p.total) : 20 + (80 * p.done) / Math.max(1, p.total));
            const message = p.phase === 'count' ? 'splitting and counting' : `${p.done.toLocaleString('en-US')} of ${p.total.toLocaleString('en-US')} merges`;
            progress.report({ increment: Math.max(0, pct - shown), message });
            shown = Math.max(shown, pct);
          },
        },
      );
    },
  );
  const fewer = 1 - result.trained.tokens / Math.max(1, result.gpt2.tokens);
  const summary =
    `Trained tokenizer ${name}: ${result.vocabSize.toLocaleString('en-US')} tokens from ${result.files} files in ${result.seconds.toFixed(1)} s. ` +
    `On those files: ${result.trained.tokensPerChar.toFixed(3)} tokens per character, GPT-2 ${result.gpt2.tokensPerChar.toFixed(3)} ` +
    `(${Math.abs(fewer * 100).toFixed(0)}% ${fewer >= 0 ? 'fewer' : 'more'} tokens).`;
  lab.output.appendLine(summary);
  if (interactive) {
    lab.notifier.offer('info', summary, {
      'Use for Tokenize Selection': async () => {
        const c = vscode.workspace.getConfiguration('llmLab');
        await c.update('tokenizer.trainedFolder', path.relative(root, outDir), vscode.ConfigurationTarget.Workspace);
        await c.update('tokenizer.encoding', 'trained', vscode.ConfigurationTarget.Workspace);
      },
      'Open Vocabulary': () => vscode.window.showTextDocument(vscode.Uri.file(path.join(outDir, 'tokenizer.vocab'))),
    });
  }
  return result;
}
