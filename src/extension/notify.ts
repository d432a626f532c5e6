// The one place the extension turns errors into messages a person sees, with the next step offered as a
// button. Every message shown is also kept (last 50) for the LLM Lab output and for integration tests.
import * as vscode from 'vscode';
import { isLlmLabError } from '../core/errors';
import { WorkerCrashError, WorkerError } from './workerClient';

export interface ShownMessage {
  level: 'info' | 'warning' | 'error';
  text: string;
  at: number;
}

export class Notifier {
  readonly shown: ShownMessage[] = [];

  constructor(private readonly output: vscode.OutputChannel) {}

  private record(level: ShownMessage['level'], text: string): void {
    this.shown.push({ level, text, at: Date.now() });
    if (this.shown.length > 50) this.shown.shift();
    this.output.appendLine(`[${level}] ${text}`);
  }

  info<T extends string>(text: string, ...actions: T[]): Thenable<T | undefined> {
    this.record('info', text);
    return vscode.window.showInformationMessage(text, ...actions);
  }

  warn<T extends string>(text: string, ...actions: T[]): Thenable<T | undefined> {
    this.record('warning', text);
    return vscode.window.showWarningMessage(text, ...actions);
  }

  error<T extends string>(text: string, ...actions: T[]): Thenable<T | undefined> {
    this.record('error', text);
    return vscode.window.showErrorMessage(text, ...actions);
  }

  /** Shows a message with buttons and runs the picked button's action later; does not wait for the person. */
  offer(level: ShownMessage['level'], text: string, actions: Record<string, () => unknown> = {}): void {
    const show = level === 'info' ? this.info.bind(this) : level === 'warning' ? this.warn.bind(this) : this.error.bind(this);
    void show(text, ...Object.keys(actions)).then((picked) => {
      if (picked) void Promise.resolve(actions[picked]()).catch((e) => this.fail(picked, e));
    });
  }

  /**
   * Shows an error from a command. User mistakes (LlmLabError) show their message; a worker crash says so
   * and offers Resume; anything else is a bug: a short message, details in the output channel.
   */
  fail(context: string, e: unknown, actions: Record<string, () => unknown> = {}): void {
    let text: string;
    if (isLlmLabError(e)) {
      if (e.code === 'cancelled') {
        this.record('info', `${context}: ${e.message}`);
        return;
      }
      text = e.message;
    } else if (e instanceof WorkerCrashError) {
      text = `${context} stopped: ${e.message}`;
    } else if (e instanceof WorkerError) {
      text = `${context} failed in the worker: ${e.message}`;
    } else {
      text = `${context} failed unexpectedly: ${e instanceof Error ? e.message : String(e)}. See the LLM Lab output for details.`;
      if (e instanceof Error && e.stack) this.output.appendLine(e.stack);
    }
    this.offer('error', text, actions);
  }
}
