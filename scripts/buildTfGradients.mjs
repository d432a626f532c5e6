// tfjs-core's CommonJS build (what Node loads) registers no gradients: they ship only as ES modules with
// extension-less imports that Node cannot load. This bundles them with esbuild into build/tfjs-gradients.cjs,
// which src/core/engine/native/gradients.ts loads at run time. Never fails an install (--install).
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const installMode = process.argv.includes('--install');
try {
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
  console.log('llm-lab: TensorFlow.js gradients bundled (build/tfjs-gradients.cjs)');
} catch (e) {
  console.warn(`llm-lab: could not bundle TensorFlow.js gradients: ${e instanceof Error ? e.message : e}`);
  process.exit(installMode ? 0 : 1);
}
