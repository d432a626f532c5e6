// TEMPORARY test helper: tfjs-core's CommonJS build registers no gradients, so training tests bundle and load
// them once. Replaced by the engine's ensureTfGradients (branch native) when it lands on main.
import * as tf from '@tensorflow/tfjs-core';
import * as esbuild from 'esbuild';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';

export function ensureGradientsForTests(): void {
  if (tf.getGradient('Sum')) return;
  const out = path.join(os.tmpdir(), `llmlab-tfjs-gradients-${process.pid}.cjs`);
  esbuild.buildSync({
    entryPoints: [createRequire(__filename).resolve('@tensorflow/tfjs-core/dist/register_all_gradients.js')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    outfile: out,
    logLevel: 'warning',
  });
  createRequire(__filename)(out);
}
