// tfjs-core's CommonJS build (what Node loads) registers no gradients: they ship only as ES modules with
// extension-less imports that Node cannot load. This bundles them with esbuild into build/tfjs-gradients.cjs,
// the one file src/core/engine/gradients.ts registers them from. Run by npm install (never failing the install
// with --install) and by every npm run build (esbuild.mjs).
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Writes build/tfjs-gradients.cjs. */
export async function buildTfGradients() {
  const esbuild = await import('esbuild');
  mkdirSync(join(root, 'build'), { recursive: true });
  await esbuild.build({
    entryPoints: [join(root, 'node_modules/@tensorflow/tfjs-core/dist/register_all_gradients.js')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    outfile: join(root, 'build', 'tfjs-gradients.cjs'),
    logLevel: 'warning',
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const installMode = process.argv.includes('--install');
  try {
    await buildTfGradients();
    console.log('llm-lab: TensorFlow.js gradients bundled (build/tfjs-gradients.cjs)');
  } catch (e) {
    console.warn(`llm-lab: could not bundle TensorFlow.js gradients: ${e instanceof Error ? e.message : e}`);
    process.exit(installMode ? 0 : 1);
  }
}
