// Inline completions from the user's own model: VS Code asks at the cursor, the provider answers from its
// cache (also when the user typed the start of a suggestion), else waits for a quiet moment (debounce) and
// asks the inference worker, cancelling the request when VS Code cancels (the user typed on), which stops
// the worker mid-generation. Tab accepts; VS Code's Accept Next Word takes a word at a time.
import * as vscode from 'vscode';
import { CancelledError } from '../../core/errors';
import type { CompletionSettings } from '../settings';
import { readSettings } from '../settings';
import type { WorkerClient } from '../workerClient';
import { CompletionCache } from './cache';
import { checkpointStamp } from './modelChoice';
import { CompletionStats } from './stats';

/** Characters before the cursor sent to the model (GPT-2's 1,024 tokens are about 4,000 characters). */
export const PREFIX_CHARS = 8000;
/** Characters after the cursor sent along (for the duplicate-suffix rule and fill-in-the-middle models). */
export const SUFFIX_CHARS = 2000;

export interface CompletionHost {
  /** The worker that serves inference (not the one that trains). */
  worker(): WorkerClient;
  /** The model folder completions use now, if any. */
  modelDir(settings: CompletionSettings): string | undefined;
  log(line: string): void;
}

export function servesLanguage(languages: readonly string[], languageId: string): boolean {
  return languages.includes('*') || languages.includes(languageId);
}

/** Resolves true after `ms` of quiet, false as soon as the token is cancelled. */
function quiet(ms: number, token: vscode.CancellationToken): Promise<boolean> {
  if (token.isCancellationRequested) return Promise.resolve(false);
  if (ms <= 0) return Promise.resolve(true);
  return new Promise((resolve) => {
    const sub = token.onCancellationRequested(() => {
      clearTimeout(timer);
      sub.dispose();
      resolve(false);
    });
    const timer = setTimeout(() => {
      sub.dispose();
      resolve(true);
    }, ms);
  });
}

export class InlineCompletionProvider implements vscode.InlineCompletionItemProvider, vscode.Disposable {
  readonly cache = new CompletionCache();
  readonly stats = new CompletionStats();
  /** The last failure, shown by the status bar until a request succeeds. */
  lastError: string | undefined;
  /** The checkpoint that answered last. */
  lastModel: string | undefined;
  private readonly changed = new vscode.EventEmitter<void>();
  /**
   * Fires when the statistics, the last error or the answering model change (for the status bar). Not named
   * `onDidChange`: VS Code reads that member of a provider as "my suggestions changed, ask me again" (the
   * inlineCompletionsAdditions API, on in code-server and wherever proposed APIs are enabled), so firing it on
   * each answer made VS Code ask again at once, and each new answer discarded the one before: the ghost text
   * never showed and the provider was asked about 16 times a second for good. See `inlineCompletionProvider`.
   */
  readonly onDidChangeStatus = this.changed.event;
  private loggedError: string | undefined;

  constructor(private readonly host: CompletionHost) {}

  async provideInlineCompletionItems(
    doc: vscode.TextDocument,
    pos: vscode.Position,
    _context: vscode.InlineCompletionContext,
    token: vscode.CancellationToken,
  ): Promise<vscode.InlineCompletionItem[] | undefined> {
    const s = readSettings(doc).completion;
    if (!s.enabled || !servesLanguage(s.languages, doc.languageId)) return undefined;
    const modelDir = this.host.modelDir(s);
    if (!modelDir) return undefined;
    const offset = doc.offsetAt(pos);
    const prefixStart = Math.max(0, offset - PREFIX_CHARS);
    const prefix = doc.getText(new vscode.Range(doc.positionAt(prefixStart), pos));
    const docEnd = doc.offsetAt(doc.lineAt(doc.lineCount - 1).range.end);
    const suffixEnd = Math.min(docEnd, offset + SUFFIX_CHARS);
    const suffix = doc.getText(new vscode.Range(pos, doc.positionAt(suffixEnd)));
    // The checkpoint that answers now is part of the key: a run's newer checkpoint never serves old suggestions.
    const weights = await checkpointStamp(modelDir);
    if (token.isCancellationRequested) return undefined;
    const key = { prefix, suffix, settings: JSON.stringify([weights, s.mode, s.maxLines, s.maxNewTokens, s.temperature]) };

    const cached = this.cache.get(key);
    if (cached !== undefined) {
      this.stats.cacheHits++;
      this.changed.fire();
      return cached ? [new vscode.InlineCompletionItem(cached, new vscode.Range(pos, pos))] : undefined;
    }
    if (!(await quiet(s.debounceMs, token))) return undefined;

    const controller = new AbortController();
    const sub = token.onCancellationRequested(() => controller.abort());
    const t0 = performance.now();
    try {
      const r = await this.host.worker().request(
        'complete',
        {
          modelDir, prefix, prefixTruncated: prefixStart > 0, suffix, suffixTruncated: suffixEnd < docEnd,
          mode: s.mode, maxLines: s.maxLines, maxNewTokens: s.maxNewTokens, temperature: s.temperature,
        },
        { signal: controller.signal },
      );
      this.stats.answered(performance.now() - t0);
      this.cache.set(key, r.text);
      this.lastError = undefined;
      this.loggedError = undefined;
      this.lastModel = r.modelDir;
      this.changed.fire();
      if (!r.text || token.isCancellationRequested) return undefined;
      return [new vscode.InlineCompletionItem(r.text, new vscode.Range(pos, pos))];
    } catch (e) {
      if (e instanceof CancelledError || token.isCancellationRequested) {
        this.stats.cancelled++;
      } else {
        this.stats.errors++;
        this.lastError = e instanceof Error ? e.message : String(e);
        if (this.loggedError !== this.lastError) this.host.log(`Inline completion failed: ${this.lastError}`);
        this.loggedError = this.lastError;
      }
      this.changed.fire();
      return undefined;
    } finally {
      sub.dispose();
    }
  }

  dispose(): void {
    this.changed.dispose();
  }
}

/**
 * What is registered with VS Code: the provider's one method and nothing else, so no other member of the
 * provider (its status event, cache or statistics) is ever read as part of VS Code's provider contract.
 */
export function inlineCompletionProvider(p: InlineCompletionProvider): vscode.InlineCompletionItemProvider {
  return { provideInlineCompletionItems: (doc, pos, context, token) => p.provideInlineCompletionItems(doc, pos, context, token) };
}
