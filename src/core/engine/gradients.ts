// TensorFlow.js's gradients of the plain ops (add, slice, transpose, …), registered one way. tfjs-core's
// CommonJS build, what Node and our bundles load, leaves them out: they ship only as ES modules whose
// extension-less imports Node cannot load. scripts/buildTfGradients.mjs bundles them into
// build/tfjs-gradients.cjs (at npm install and on every npm run build); this loads that file from the package
// root, for the CLI, the worker, the tests and the packaged extension alike.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { packageRoot } from './native/addon';
import { tf } from './tf';

/** The bundle's path inside the package. */
export const GRADIENTS_BUNDLE = join('build', 'tfjs-gradients.cjs');

/**
 * Makes sure tf.grads works for plain ops. Returns undefined when it does, else why not (shown by
 * `llm-lab info` and Show Engine). `file` overrides where the bundle is looked for.
 */
export function registerGradients(file?: string): string | undefined {
  if (tf.getGradient('Sum')) return undefined;
  const root = packageRoot();
  const bundle = file ?? (root ? join(root, GRADIENTS_BUNDLE) : undefined);
  if (!bundle || !existsSync(bundle)) return `the gradient bundle ${GRADIENTS_BUNDLE} is missing: run npm run build`;
  try {
    const load = createRequire(__filename);
    delete load.cache[load.resolve(bundle)]; // registered again if someone unregistered them since
    load(bundle);
  } catch (e) {
    return `the gradient bundle could not load (${e instanceof Error ? e.message.split('\n')[0] : String(e)}): run npm run build`;
  }
  return tf.getGradient('Sum') ? undefined : 'the gradient bundle registered nothing: run npm run build';
}
