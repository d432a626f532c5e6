// Test helper: tfjs-core's CommonJS build registers no gradients (they ship only as ES modules), so the engine
// tests bundle them once with esbuild into a temp file and load it. On main the engine loads a bundle built at
// install time instead; this keeps these tests independent of that step.
import * as esbuild from 'esbuild';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { tf } from '../../../../src/core/engine';

export function ensureGradientsForTests(): void {
  if (tf.getGradient('Sum')) return;
  const load = createRequire(__filename);
  const out = path.join(os.tmpdir(), `llm-lab-engine-test-gradients-${process.pid}.cjs`);
  esbuild.buildSync({
    entryPoints: [load.resolve('@tensorflow/tfjs-core/dist/register_all_gradients.js')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    outfile: out,
    logLevel: 'warning',
  });
  load(out);
}
