// Test helper: what a test does when a backend it compares is not there. cpu and wasm ship with LLM Lab and
// must start. The native kernels are built by npm install or npm test's set-up, so their absence fails the test
// with the reason, unless LLM_LAB_ALLOW_NO_NATIVE=1 allows the skip. TensorFlow's tfjs-node is optional and not
// among LLM Lab's dependencies: without it the comparison is skipped, its title saying why.
import type { BackendName } from '../../../src/core/engine';

/** Call from a test or hook whose backend failed to start: throws, or skips with the reason in the title. */
export function backendMissing(ctx: Mocha.Context, backend: BackendName, error: unknown): never {
  const why = error instanceof Error ? error.message : String(error);
  const skippable = backend === 'tensorflow' || (backend === 'native' && process.env.LLM_LAB_ALLOW_NO_NATIVE === '1');
  if (!skippable) {
    const hint = backend === 'native' ? ' Run npm run build:native, or set LLM_LAB_ALLOW_NO_NATIVE=1 to skip.' : '';
    throw new Error(`The ${backend} backend did not start: ${why}.${hint}`);
  }
  const test = ctx.currentTest ?? ctx.test;
  if (test) test.title += ` — skipped: ${why.split(/[;(]/)[0].trim()}`;
  ctx.skip();
}
