// The compute engine: the only module of LLM Lab that reaches TensorFlow.js. It picks the backend
// (tensorflow → webgpu → native → wasm → cpu), records why each other one was not used, and re-exports `tf`
// for the rest of LLM Lab. Importing it also registers the wasm and cpu fused ops (see wasm/fusedOps.ts) and the
// backward pass that frees memory as it goes (tape.ts).
import { LlmLabError } from '../errors';
import type { RequireFn, Started } from './backends';
import { registerGradients } from './gradients';
import { startCpu, startNative, startTensorflow, startWasmBackend, startWebgpu } from './backends';
import { fusedOpNames } from './fused';
import { installFreeingGradients } from './tape';
import { tf } from './tf';
import { registerWasmFusedOps } from './wasm/fusedOps';
import { candidateDirs, findDir } from './wasm/loader';

export { tf };

registerWasmFusedOps();
installFreeingGradients();

/** Backends a user can ask for. `auto` takes the fastest one that works. */
export type BackendName = 'tensorflow' | 'webgpu' | 'native' | 'wasm' | 'cpu';
export type BackendChoice = BackendName | 'auto';
export const BACKEND_CHOICES: readonly BackendChoice[] = ['auto', 'tensorflow', 'webgpu', 'native', 'wasm', 'cpu'];

/** The order `auto` tries them in: fastest first (webgpu only on a hardware adapter). */
export const AUTO_ORDER: readonly BackendName[] = ['tensorflow', 'webgpu', 'native', 'wasm', 'cpu'];

export interface BackendAttempt {
  name: BackendName;
  ok: boolean;
  /** Why it was not used, or what it is when used ("XNNPACK on WebAssembly SIMD, 2 threads"). */
  detail: string;
}

export interface EngineInfo {
  backend: BackendName;
  /** Threads the backend's kernels use (0 when the backend manages its own pool and does not say). */
  threads: number;
  /** Every backend, in AUTO_ORDER, with whether it runs and why (not). */
  attempts: BackendAttempt[];
  /** Model-level ops this backend serves with its own fused kernels (the rest use the portable versions). */
  fusedOps: string[];
  /** Why training cannot compute gradients here, when it cannot (inference still works); undefined when it can. */
  gradientsMissing?: string;
}

export interface EngineOptions {
  /** Threads for the wasm backend (default LLM_LAB_THREADS or every core, at most 8); fixed once it started. */
  threads?: number;
  /** Loads tfjs-node(-gpu); tests pass a fake to play a missing or broken install. */
  requireTensorflow?: RequireFn;
  /** Loads the native module; tests pass a fake. */
  loadNative?: () => unknown;
  /** Loads the WebGPU backend module; tests pass a fake. */
  loadWebgpu?: () => unknown;
}

let current: EngineInfo | undefined;

/** The backend that runs, once `initEngine` has been called. */
export function engineInfo(): EngineInfo | undefined {
  return current;
}

/**
 * Forgets the current choice, so the next initEngine (even `auto`) chooses again, e.g. after the user changed
 * the backend setting. Backends already started stay registered and start again at no cost.
 */
export function resetEngineChoice(): void {
  current = undefined;
}

function starter(name: BackendName, opts: EngineOptions, named: boolean): () => Promise<Started> {
  switch (name) {
    case 'tensorflow':
      return () => startTensorflow(opts.requireTensorflow);
    case 'webgpu':
      return () => startWebgpu(opts.loadWebgpu, named);
    case 'native':
      return () => startNative(opts.loadNative);
    case 'wasm':
      return () => startWasmBackend(opts.threads);
    case 'cpu':
      return startCpu;
  }
}

/** What can be said about a backend that was not tried, without starting it. */
function untried(name: BackendName, chosen: BackendName, named: boolean): string {
  const why = named ? `${chosen} was asked for` : `${chosen} comes first`;
  if (name === 'cpu') return `available, not used (${why})`;
  if (name === 'wasm') {
    const found = findDir(candidateDirs(), ['tfjs-backend-wasm-simd.wasm']);
    return found ? `available, not started (${why})` : 'its .wasm binaries were not found (reinstall: npm ci)';
  }
  return `not tried (${why})`;
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Chooses and starts the compute backend. With `auto` the first that works of tensorflow, native, wasm
 * and cpu; with a named one, that one or an LlmLabError saying why it cannot run. Calling it again with
 * `auto` or the running backend's name is free; another name switches backend.
 */
export async function initEngine(choice: BackendChoice = 'auto', opts: EngineOptions = {}): Promise<EngineInfo> {
  if (!BACKEND_CHOICES.includes(choice)) {
    throw new LlmLabError('bad-argument', `Unknown backend '${String(choice)}'; choose one of ${BACKEND_CHOICES.join(', ')}.`);
  }
  if (current && (choice === 'auto' || choice === current.backend)) return current;
  const named = choice !== 'auto';
  const order = named ? [choice] : AUTO_ORDER;
  const tried = new Map<BackendName, BackendAttempt>();
  for (const name of order) {
    try {
      const started = await starter(name, opts, named)();
      tried.set(name, { name, ok: true, detail: started.detail });
      const attempts = AUTO_ORDER.map((n) => tried.get(n) ?? { name: n, ok: false, detail: untried(n, name, named) });
      const gradientsMissing = registerGradients();
      current = { backend: name, threads: started.threads, attempts, fusedOps: fusedOpNames(tf.getBackend()), gradientsMissing };
      return current;
    } catch (e) {
      tried.set(name, { name, ok: false, detail: errorText(e) });
    }
  }
  if (named) {
    throw new LlmLabError(
      'backend',
      `The ${choice} backend cannot run here: ${tried.get(choice)?.detail}. Use --backend auto to take the fastest one that works.`,
    );
  }
  const why = [...tried.values()].map((a) => `${a.name}: ${a.detail}`).join('; ');
  throw new LlmLabError('backend', `No compute backend could start (${why}).`);
}

/** A few lines for `llm-lab info` and the extension's Show Engine: what runs, and why not the others. */
export function describeEngine(info: EngineInfo): string {
  const used = info.attempts.find((a) => a.name === info.backend);
  const lines = [
    `Backend: ${info.backend}${used ? ` — ${used.detail}` : ''}`,
    `Threads: ${info.threads || 'managed by the backend'}`,
    `Fused ops: ${info.fusedOps.length ? info.fusedOps.join(', ') : 'none (portable TensorFlow.js ops)'}`,
    ...(info.gradientsMissing ? [`Training: unavailable, gradients are not registered (${info.gradientsMissing})`] : []),
    'Backends, fastest first:',
  ];
  const width = Math.max(...info.attempts.map((a) => a.name.length));
  for (const a of info.attempts) {
    const mark = a.name === info.backend ? '*' : a.ok ? '+' : '-';
    lines.push(`  ${mark} ${a.name.padEnd(width)}  ${a.name === info.backend ? 'in use' : a.detail}`);
  }
  return lines.join('\n');
}
