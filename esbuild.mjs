// Builds LLM Lab's bundles: one esbuild context per target, and build/tfjs-gradients.cjs beside them. `node esbuild.mjs --watch` rebuilds on change.
// Node targets keep TensorFlow.js's optional native packages external (loaded at run time when present)
// and get the wasm backend's binaries copied beside them.
import * as esbuild from 'esbuild';
import { cpSync, existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { buildTfGradients } from './scripts/buildTfGradients.mjs';

const require = createRequire(import.meta.url);
const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');

const nodeExternal = ['vscode', '@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu', 'webgpu'];

// TensorFlow.js backends register themselves when imported (`import '@tensorflow/tfjs-backend-cpu'`), but their
// package.json "sideEffects" lists omit the Node entry files, so esbuild would drop those imports and a bundle
// would start with no backend at all. Mark the backend packages as having side effects.
const keepTfBackends = {
  name: 'keep-tfjs-backends',
  setup(build) {
    build.onResolve({ filter: /^@tensorflow\/tfjs-backend-[a-z]+$/ }, async (args) => {
      if (args.pluginData?.keepTf) return undefined;
      const r = await build.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: { keepTf: true } });
      return r.errors.length ? undefined : { ...r, sideEffects: true };
    });
  },
};
const common = { bundle: true, sourcemap: !production, minify: production, logLevel: 'warning', plugins: [keepTfBackends] };

const targets = [
  { name: 'extension', entry: 'src/extension/extension.ts', platform: 'node', format: 'cjs', external: nodeExternal },
  { name: 'worker', entry: 'src/worker/main.ts', platform: 'node', format: 'cjs', external: nodeExternal },
  { name: 'cli', entry: 'src/cli/main.ts', platform: 'node', format: 'cjs', external: nodeExternal, banner: '#!/usr/bin/env node' },
  { name: 'bench', entry: 'bench/bench.ts', platform: 'node', format: 'cjs', external: nodeExternal },
  { name: 'webview', entry: 'webview/main.ts', platform: 'browser', format: 'iife', external: [] },
];

function copyWasmBinaries() {
  const wasmDir = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'));
  mkdirSync('dist', { recursive: true });
  const files = [
    ['dist', 'tfjs-backend-wasm.wasm'],
    ['dist', 'tfjs-backend-wasm-simd.wasm'],
    ['dist', 'tfjs-backend-wasm-threaded-simd.wasm'],
    // The threaded module and its worker script: the engine starts wasm threads from these files.
    ['wasm-out', 'tfjs-backend-wasm-threaded-simd.js'],
    ['wasm-out', 'tfjs-backend-wasm-threaded-simd.worker.js'],
  ];
  for (const [dir, f] of files) {
    const from = join(wasmDir, dir, f);
    if (existsSync(from)) cpSync(from, join('dist', f));
  }
}

// Dawn's binary for this platform only, beside the bundles (the webgpu backend looks there first): a package
// built on one platform carries that platform's GPU binary and no other.
function copyDawnBinary() {
  let pkgDir;
  try {
    pkgDir = dirname(require.resolve('webgpu/package.json'));
  } catch {
    return; // an optional dependency: without it the webgpu backend reports itself not installed
  }
  const platformDir = `${process.platform}-${process.platform === 'darwin' ? 'universal' : process.arch}`;
  const from = join(pkgDir, 'dist', platformDir, 'dawn.node');
  if (existsSync(from)) cpSync(from, join('dist', 'dawn.node'));
}

const contexts = [];
for (const t of targets) {
  if (!existsSync(t.entry)) {
    console.log(`esbuild: skipping ${t.name} (${t.entry} does not exist yet)`);
    continue;
  }
  contexts.push(
    await esbuild.context({
      ...common,
      entryPoints: { [t.name]: t.entry },
      outdir: 'dist',
      platform: t.platform,
      format: t.format,
      target: t.platform === 'node' ? 'node20' : 'es2022',
      external: t.external,
      banner: t.banner ? { js: t.banner } : undefined,
    }),
  );
}
copyWasmBinaries();
copyDawnBinary();
// TensorFlow.js's gradients are not in any bundle: the engine registers them from this one file at run time.
await buildTfGradients();
if (watch) {
  await Promise.all(contexts.map((c) => c.watch()));
} else {
  await Promise.all(contexts.map((c) => c.rebuild()));
  await Promise.all(contexts.map((c) => c.dispose()));
}
