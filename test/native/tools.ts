// What the native-code tests need from the machine: Debian's cross compiler and qemu-user, installed with
// apt-get when missing and allowed (as root, the way CI runs), otherwise a clear error saying what to install.
// Also the one list of kernel sources and the compile step, shared by the host, portable and arm64 builds.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const ROOT = path.resolve(__dirname, '..', '..', '..');

/** The kernels, without the N-API wrapper (native/binding.gyp lists the same files plus addon.cc). */
export const KERNEL_SOURCES = ['gemm.cc', 'kernels.cc', 'attention.cc', 'layout.cc', 'random.cc', 'threadPool.cc'].map((f) =>
  path.join(ROOT, 'native', 'src', f),
);

function onPath(bin: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${bin}`]).status === 0;
}

/** Makes sure each binary is on PATH, installing its Debian package when it is not and we may. */
export function ensureTools(tools: { bin: string; pkg: string }[]): void {
  const missing = tools.filter((t) => !onPath(t.bin));
  if (missing.length === 0) return;
  const pkgs = missing.map((t) => t.pkg);
  const root = process.getuid?.() === 0;
  if (!root || !onPath('apt-get')) {
    throw new Error(`missing ${missing.map((t) => t.bin).join(', ')}: install the Debian packages ${pkgs.join(' ')} (sudo apt-get install ${pkgs.join(' ')})`);
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  let r = spawnSync('apt-get', ['install', '-y', '-qq', ...pkgs], { env, encoding: 'utf8' });
  if (r.status !== 0) {
    spawnSync('apt-get', ['update', '-qq'], { env });
    r = spawnSync('apt-get', ['install', '-y', '-qq', ...pkgs], { env, encoding: 'utf8' });
  }
  const still = missing.filter((t) => !onPath(t.bin));
  if (still.length) throw new Error(`apt-get could not install ${pkgs.join(' ')}: ${(r.stderr || r.stdout || '').trim().slice(-400)}`);
}

/** Compiles native/test/kernelTest.cc with the kernels into an executable; returns its path. */
export function buildKernelTest(compiler: string, flags: string[], name: string): string {
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'llm-lab-kernels-')), name);
  const args = ['-std=c++17', '-O2', '-pthread', ...flags, path.join(ROOT, 'native', 'test', 'kernelTest.cc'), ...KERNEL_SOURCES, '-o', out];
  const r = spawnSync(compiler, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${compiler} ${flags.join(' ')} failed:\n${(r.stderr || '').slice(0, 3000)}`);
  return out;
}

/** Runs a command, returning its exit status or signal and its output. */
export function run(cmd: string, args: string[], timeoutMs = 300_000): { status: number | null; signal: string | null; out: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: timeoutMs, cwd: ROOT, env: { ...process.env, LLM_LAB_THREADS: '4' } });
  return { status: r.status, signal: r.signal, out: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}
