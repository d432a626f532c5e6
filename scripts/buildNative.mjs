// Builds LLM Lab's native CPU kernels (native/, an N-API addon) with node-gyp for this machine (-O3
// -march=native) and copies the result to build/Release/llm_lab_native.node. Writes build/native-status.json
// either way, so the engine can say why the native backend is missing.
//   node scripts/buildNative.mjs            build; exit 1 on failure (npm run build:native)
//   node scripts/buildNative.mjs --install  the npm `install` hook: never fails the install
// LLM_LAB_SKIP_NATIVE=1 skips the build.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const installMode = process.argv.includes('--install');
const statusFile = join(root, 'build', 'native-status.json');
const target = join(root, 'build', 'Release', 'llm_lab_native.node');

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
  if (process.arch !== 'x64') finish(false, `the kernels need x86-64 with AVX2 (this is ${process.arch})`);
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
  finish(true, 'built', { compiler, flags: '-O3 -march=native' });
} catch (e) {
  finish(false, `build script error: ${e instanceof Error ? e.message : String(e)}`);
}
