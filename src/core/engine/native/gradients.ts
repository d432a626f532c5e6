// Registers TensorFlow.js's gradients of the plain ops (add, slice, transpose, …), which tfjs-core's
// CommonJS build leaves out. They are bundled at install time into build/tfjs-gradients.cjs
// (scripts/buildTfGradients.mjs) and loaded from the package root, so tsc output and dist bundles share it.
import * as tf from '@tensorflow/tfjs-core';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { packageRoot } from './addon';

/** Makes sure tf.grads works for plain ops; throws an Error saying how to fix it when it cannot. */
export function ensureTfGradients(): void {
  if (tf.getGradient('Sum')) return;
  const root = packageRoot();
  const file = root ? join(root, 'build', 'tfjs-gradients.cjs') : undefined;
  if (!file || !existsSync(file)) {
    throw new Error('TensorFlow.js gradients are not set up (build/tfjs-gradients.cjs is missing): run npm run build:native');
  }
  createRequire(__filename)(file);
}
