// The first step of `npm test`: makes sure the machine has what the tests need from the system, before
// anything else runs. Debian packages that are missing are installed when this runs as root with apt-get;
// otherwise it stops with one message naming them and the exact command to run. Then, when the native kernels
// were not built at npm install (no C++ compiler then), it builds them now.
// Plain Node with no dependencies, so it works on a fresh clone before anything is compiled.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** What the tests need from the system: the Debian package, why, and how to tell it is there without dpkg. */
export const NEEDS = [
  { pkg: 'g++', why: 'builds the native kernels', command: 'g++' },
  { pkg: 'make', why: 'builds the native kernels', command: 'make' },
  { pkg: 'python3', why: 'node-gyp, which builds the native kernels', command: 'python3' },
  { pkg: 'chromium', why: "the lab panel's tests and the UI tests", file: process.env.LLM_LAB_CHROMIUM ?? '/usr/bin/chromium' },
  { pkg: 'ripgrep', why: "code-server's install, for the real-VS Code tests", file: '/usr/bin/rg' },
  { pkg: 'libkrb5-dev', why: "code-server's install, for the real-VS Code tests", file: '/usr/include/krb5.h' },
  { pkg: 'g++-aarch64-linux-gnu', why: 'the arm64 build of the native kernels', command: 'aarch64-linux-gnu-g++' },
  { pkg: 'qemu-user', why: 'runs the arm64 kernels and plays a CPU without AVX2', command: 'qemu-aarch64' },
];

function onPath(command) {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => dir && existsSync(join(dir, command)));
}

/** Whether a Debian package is installed (dpkg's word), or undefined on a machine without dpkg. */
function dpkgInstalled(pkg) {
  if (!onPath('dpkg-query')) return undefined;
  const r = spawnSync('dpkg-query', ['-W', '-f=${Status}', pkg], { encoding: 'utf8' });
  return r.status === 0 && /install ok installed/.test(r.stdout);
}

/** The needs this machine does not meet. */
export function missing() {
  return NEEDS.filter((n) => {
    const viaDpkg = dpkgInstalled(n.pkg);
    if (viaDpkg !== undefined) return !viaDpkg;
    return n.command ? !onPath(n.command) : !existsSync(n.file);
  });
}

function fail(lines) {
  console.error(lines.join('\n'));
  process.exit(1);
}

function ensurePackages() {
  const lacking = missing();
  if (lacking.length === 0) return;
  const names = lacking.map((n) => n.pkg);
  const list = lacking.map((n) => `  ${n.pkg.padEnd(22)} ${n.why}`);
  const isRoot = process.getuid?.() === 0;
  if (isRoot && onPath('apt-get')) {
    console.log(`npm test: installing the Debian packages the tests need: ${names.join(' ')}`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    const update = spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
    const install = update.status === 0 ? spawnSync('apt-get', ['install', '-y', '-qq', ...names], { stdio: 'inherit', env }) : update;
    if (install.status === 0 && missing().length === 0) return;
    fail([`npm test: apt-get could not install ${names.join(' ')}. Install them yourself, then run npm test again:`, `  apt-get install -y ${names.join(' ')}`]);
  }
  const how = onPath('apt-get')
    ? [`  sudo apt-get install -y ${names.join(' ')}`]
    : [`  (on Debian or Ubuntu: sudo apt-get install -y ${names.join(' ')}; elsewhere, the same tools from your package manager)`];
  fail([
    'npm test needs these system packages, which this machine lacks:',
    ...list,
    'Install them, then run npm test again:',
    ...how,
  ]);
}

function nativeBuilt() {
  try {
    return JSON.parse(readFileSync(join(root, 'build', 'native-status.json'), 'utf8')).ok === true
      && existsSync(join(root, 'build', 'Release', 'llm_lab_native.node'));
  } catch {
    return false;
  }
}

function ensureNative() {
  if (nativeBuilt() || process.env.LLM_LAB_SKIP_NATIVE === '1') return;
  console.log('npm test: the native kernels were not built at npm install (no C++ compiler then); building them now.');
  const r = spawnSync(process.execPath, [join(root, 'scripts', 'buildNative.mjs')], { stdio: 'inherit', cwd: root });
  if (r.status !== 0) fail(['npm test: the native kernels did not build (see above); fix that, or run npm run build:native to retry.']);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  ensurePackages();
  ensureNative();
}
