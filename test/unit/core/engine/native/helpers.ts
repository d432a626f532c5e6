// Shared helpers of the native-kernel tests: start the native backend (or say clearly why not), run a
// function on a named backend and bring back plain arrays, seeded random data, and a closeness check.
import * as assert from 'node:assert/strict';
import { tf } from '../../../../../src/core/engine';
import { loadNativeBackend } from '../../../../../src/core/engine/native';

/** Call in a mocha `before`: loads the backend; fails (or skips with LLM_LAB_ALLOW_NO_NATIVE=1) when it is not built. */
export async function requireNative(ctx: Mocha.Context): Promise<void> {
  try {
    await loadNativeBackend();
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    if (process.env.LLM_LAB_ALLOW_NO_NATIVE === '1') {
      console.warn(`    (skipping native kernel tests: ${why})`);
      ctx.skip();
    }
    throw new Error(`The native backend is not available (${why}). Run npm run build:native, or set LLM_LAB_ALLOW_NO_NATIVE=1 to skip.`);
  }
}

/** Runs `fn` with `backend` active and returns its tensors' values as plain arrays (nothing left allocated). */
export async function on<T extends tf.Tensor | tf.Tensor[]>(backend: string, fn: () => T): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const result = tf.tidy(fn);
  const list = Array.isArray(result) ? result : [result];
  const values = list.map((t) => Float32Array.from(t.dataSync()));
  list.forEach((t) => t.dispose());
  return values;
}

/** Deterministic values in [-scale, scale). */
export function randomArray(n: number, seed: number, scale = 1): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = ((s / 4294967296) * 2 - 1) * scale;
  }
  return out;
}

export function randomInts(n: number, max: number, seed: number): Int32Array {
  const r = randomArray(n, seed);
  return Int32Array.from(r, (x) => Math.min(max - 1, Math.floor(((x + 1) / 2) * max)));
}

/** Asserts |a − b| ≤ atol + rtol·|b| elementwise, naming the first bad element. */
export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string, atol = 1e-4, rtol = 1e-4): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const b = expected[i];
    if (!(Math.abs(a - b) <= atol + rtol * Math.abs(b))) {
      assert.fail(`${what}: element ${i} is ${a}, expected ${b}`);
    }
  }
}
