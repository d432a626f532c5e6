// The C++ kernels against plain double-precision loops and finite differences (native/test/kernelTest.cc),
// in each build LLM Lab ships or falls back to: this machine's baseline build (AVX2+FMA on x86-64), the
// arm64 build (NEON) cross-compiled with Debian's g++-aarch64-linux-gnu and run under qemu-aarch64, and the
// portable build with no vector-unit flags.
import * as assert from 'node:assert/strict';
import { buildKernelTest, ensureTools, run } from './tools';

function assertAllPassed(r: { status: number | null; signal: string | null; out: string }, what: string): void {
  assert.equal(r.signal, null, `${what} was killed by ${r.signal}:\n${r.out}`);
  assert.match(r.out, /^kernel tests: \d+ passed, 0 failed/m, `${what}:\n${r.out}`);
  assert.equal(r.status, 0, r.out);
}

describe('native kernels in every build', function () {
  it('this machine, built with the shipped flags', function () {
    if (process.arch !== 'x64' && process.arch !== 'arm64') this.skip();
    const exe = buildKernelTest('c++', process.arch === 'x64' ? ['-mavx2', '-mfma'] : [], 'kernels-host');
    assertAllPassed(run(exe, []), 'host build');
  });

  it('arm64 (NEON), cross-compiled and run under qemu-aarch64', function () {
    ensureTools([
      { bin: 'aarch64-linux-gnu-g++', pkg: 'g++-aarch64-linux-gnu' },
      { bin: 'qemu-aarch64', pkg: 'qemu-user' },
    ]);
    const exe = buildKernelTest('aarch64-linux-gnu-g++', ['-static'], 'kernels-arm64');
    const file = run('file', [exe]);
    if (file.status === 0) assert.match(file.out, /ARM aarch64/, file.out);
    assertAllPassed(run('qemu-aarch64', [exe]), 'arm64 build under qemu');
  });

  it('the portable build (no vector-unit flags)', function () {
    const exe = buildKernelTest('c++', ['-DLLMLAB_FORCE_PORTABLE'], 'kernels-portable');
    assertAllPassed(run(exe, []), 'portable build');
  });
});
