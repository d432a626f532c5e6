// The compute engine: the only module of LLM Lab that imports TensorFlow.js. It picks the backend
// (tensorflow → native → wasm → cpu), records why each other one was not used, and re-exports `tf`
// for the rest of src/core/engine. Code outside the engine reaches tensors through the engine's exports.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { LlmLabError } from '../errors';

export { tf };

/** Backends a user can ask for. `auto` takes the fastest one that works. */
export type BackendName = 'tensorflow' | 'native' | 'wasm' | 'cpu';
export type BackendChoice = BackendName | 'auto';
export const BACKEND_CHOICES: readonly BackendChoice[] = ['auto', 'tensorflow', 'native', 'wasm', 'cpu'];

export interface BackendAttempt {
  name: BackendName;
  ok: boolean;
  /** Why it was not used, or what it is when used ("libtensorflow 2.9 with CUDA", "2 threads"). */
  detail: string;
}

export interface EngineInfo {
  backend: BackendName;
  threads: number;
  attempts: BackendAttempt[];
}

let current: EngineInfo | undefined;

/** The backend that runs, once `initEngine` has been called. */
export function engineInfo(): EngineInfo | undefined {
  return current;
}

async function tryCpu(): Promise<string> {
  if (!(await tf.setBackend('cpu'))) throw new Error('TensorFlow.js refused the cpu backend');
  return 'plain JavaScript kernels, 1 thread (slow: for tests and tiny models)';
}

const tryers: Record<BackendName, () => Promise<string>> = {
  tensorflow: async () => {
    throw new Error('not installed');
  },
  native: async () => {
    throw new Error('not built');
  },
  wasm: async () => {
    throw new Error('not set up');
  },
  cpu: tryCpu,
};

const AUTO_ORDER: BackendName[] = ['tensorflow', 'native', 'wasm', 'cpu'];

/**
 * Chooses and starts the compute backend. With `auto` the first that works of tensorflow, native, wasm
 * and cpu; with a named one, that one or a clear error. Calling it again with the same choice is free.
 */
export async function initEngine(choice: BackendChoice = 'auto'): Promise<EngineInfo> {
  if (current && (choice === 'auto' || choice === current.backend)) return current;
  const order = choice === 'auto' ? AUTO_ORDER : [choice];
  const attempts: BackendAttempt[] = [];
  for (const name of order) {
    try {
      const detail = await tryers[name]();
      attempts.push({ name, ok: true, detail });
      for (const rest of AUTO_ORDER) {
        if (!attempts.some((a) => a.name === rest)) attempts.push({ name: rest, ok: false, detail: 'not tried' });
      }
      current = { backend: name, threads: 1, attempts };
      return current;
    } catch (e) {
      attempts.push({ name, ok: false, detail: e instanceof Error ? e.message : String(e) });
    }
  }
  const why = attempts.map((a) => `${a.name}: ${a.detail}`).join('; ');
  throw new LlmLabError('backend', `No compute backend could start (${why}). Try --backend auto.`);
}
