// Builds LLM Lab's native CPU kernels (native/, an N-API addon) with node-gyp and copies them to
// build/Release/: llm_lab_native.node (the kernels) and llm_lab_cpu.node (the CPU probe the engine asks
// before loading them). The kernels are built for a fixed baseline, never for the build machine
// (-march=native would crash older CPUs with SIGILL once packaged): x86-64 with AVX2+FMA, or ARMv8-A (NEON).
// Writes build/native-status.json either way, so the engine can say why the native backend is missing.
//   node scripts/buildNative.mjs            build; exit 1 on failure (npm run build:native)
//   node scripts/buildNative.mjs --install  the npm `install` hook: never fails the install
//   node scripts/buildNative.mjs --check    exit 1 unless the built kernels are a baseline build (npm run package)
// LLM_LAB_SKIP_NATIVE=1 skips the build.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const installMode = process.argv.includes('--install');
const statusFile = join(root, 'build', 'native-status.json');
const target = join(root, 'build', 'Release', 'llm_lab_native.node');
const probeTarget = join(root, 'build', 'Release', 'llm_lab_cpu.node');
/** What each architecture's kernels are compiled for (native/binding.gyp says the same in flags). */
const BASELINES = { x64: { isa: 'avx2+fma', flags: '-O3 -mavx2 -mfma' }, arm64: { isa: 'neon', flags: '-O3' } };

if (process.argv.includes('--check')) {
  let status;
  try {
    status = JSON.parse(readFileSync(statusFile, 'utf8'));
  } catch {
    status = undefined;
  }
  const baseline = status && BASELINES[status.arch];
  if (status?.ok && (!baseline || status.flags !== baseline.flags || /march=native/.test(status.flags ?? ''))) {
    console.error(`llm-lab: build/Release holds kernels built with '${status.flags}', not the baseline; run npm run build:native before packaging.`);
    process.exit(1);
  }
  process.exit(0);
}

function writeStatus(ok, reason, extra = {}) {
  mkdirSync(dirname(statusFile), { recursive: true });
  const status = {
    ok,
    reason,
    node: process.versions.node,
    modules: process.versions.modules,
    napi: process.versions.napi,
    platform: process.platform,
    arch: process.arch,
    builtAt: new Date().toISOString(),
    ...extra,
  };
  writeFileSync(statusFile, JSON.stringify(status, null, 2) + '\n');
}

function finish(ok, reason, extra) {
  writeStatus(ok, reason, extra);
  if (ok) {
    console.log(`llm-lab: native kernels built (${target})`);
    process.exit(0);
  }
  const msg = `llm-lab: native kernels not built: ${reason}. LLM Lab still works on its JavaScript/WebAssembly backends.`;
  console.warn(msg);
  process.exit(installMode ? 0 : 1);
}

function run(cmd, args, opts = {}) {
  return spawnSync(cmd, args, { cwd: root, encoding: 'utf8', ...opts });
}

try {
  if (process.env.LLM_LAB_SKIP_NATIVE === '1') finish(false, 'skipped (LLM_LAB_SKIP_NATIVE=1)');
  if (process.platform !== 'linux' && process.platform !== 'darwin') finish(false, `no build recipe for ${process.platform}`);
  const baseline = BASELINES[process.arch];
  if (!baseline) finish(false, `no kernels for ${process.arch} (they are built for x64 and arm64)`);
  const cxx = process.env.CXX || 'c++';
  const probe = run(cxx, ['--version']);
  if (probe.error || probe.status !== 0) finish(false, `no C++ compiler at install time ('${cxx}' not found; install g++ then run npm run build:native)`);
  const compiler = probe.stdout.split('\n')[0];
  let gyp;
  try {
    gyp = join(dirname(fileURLToPath(import.meta.resolve('node-gyp/package.json'))), 'bin', 'node-gyp.js');
  } catch {
    finish(false, 'node-gyp is not installed (it is a devDependency: run npm install, then npm run build:native)');
  }
  const args = [gyp, 'rebuild', '--directory', 'native', '-j', 'max'];
  // Use the running Node's own headers when they are on disk, so nothing is downloaded.
  const prefix = dirname(dirname(process.execPath));
  if (existsSync(join(prefix, 'include', 'node', 'node_api.h'))) args.push(`--nodedir=${prefix}`);
  const build = run(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  if (build.error || build.status !== 0) {
    const log = `${build.stdout ?? ''}\n${build.stderr ?? ''}`;
    const lines = log.split('\n').filter((l) => /error|not found|No such/i.test(l)).slice(0, 5);
    finish(false, `node-gyp failed (${lines.join(' | ').slice(0, 600) || `exit ${build.status}`})`, { compiler });
  }
  mkdirSync(dirname(target), { recursive: true });
  copyFileSync(join(root, 'native', 'build', 'Release', 'llm_lab_native.node'), target);
  copyFileSync(join(root, 'native', 'build', 'Release', 'llm_lab_cpu.node'), probeTarget);
  finish(true, 'built', { compiler, isa: baseline.isa, flags: baseline.flags });
} catch (e) {
  finish(false, `build script error: ${e instanceof Error ? e.message : String(e)}`);
}
