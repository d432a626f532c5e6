// The native kernels are safe on every CPU: the CPU check runs before the addon loads and its reason reaches
// the engine report; a C++ exception inside a kernel (an allocation failure on the pool's threads) comes
// back as a JavaScript Error, and the next kernel call still runs and gives the right answer.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import type { BackendName } from '../../../../../src/core/engine';
import { describeEngine, engineInfo, initEngine, resetEngineChoice } from '../../../../../src/core/engine';
import * as native from '../../../../../src/core/engine/native';
import { loadAddon } from '../../../../../src/core/engine/native/addon';
import type { CpuFeatures } from '../../../../../src/core/engine/native/cpu';
import { nativeCpuRefusal, probeCpu } from '../../../../../src/core/engine/native/cpu';
import { assertClose, randomArray, requireNative } from './helpers';

const HASWELL: CpuFeatures = { arch: 'x64', sse42: true, avx: true, avx2: true, fma: true, avx512f: false };
const WESTMERE: CpuFeatures = { arch: 'x64', sse42: true, avx: false, avx2: false, fma: false, avx512f: false };

describe('native safety', function () {
  describe('CPU check', () => {
    it('refuses x86-64 without AVX2 or FMA, naming what is missing; accepts AVX2+FMA and arm64 NEON', () => {
      assert.equal(nativeCpuRefusal(HASWELL), undefined);
      assert.equal(nativeCpuRefusal({ arch: 'arm64', neon: true }), undefined);
      assert.match(nativeCpuRefusal(WESTMERE) ?? '', /^this CPU lacks AVX2 and FMA \(the native kernels are built for x86-64 with AVX2 and FMA/);
      // AVX (Sandy Bridge) without AVX2 and FMA is still refused: only those two are named.
      assert.match(nativeCpuRefusal({ ...WESTMERE, avx: true }) ?? '', /lacks AVX2 and FMA /);
      assert.match(nativeCpuRefusal({ ...HASWELL, fma: false }) ?? '', /lacks FMA /);
      assert.match(nativeCpuRefusal({ arch: 'other' }) ?? '', /no native kernels for this CPU architecture \(other\)/);
    });

    it('the probe reports what /proc/cpuinfo lists for this machine', function () {
      if (process.platform !== 'linux' || process.arch !== 'x64') this.skip();
      const flags = new Set((/^flags\s*:(.*)$/m.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? '').trim().split(/\s+/));
      const cpu = probeCpu();
      assert.equal(cpu.arch, 'x64');
      for (const f of ['avx2', 'fma', 'avx512f'] as const) assert.equal(cpu[f], flags.has(f), f);
      assert.equal(cpu.sse42, flags.has('sse4_2'));
    });

    describe('in the engine', () => {
      let previous: BackendName | undefined;
      before(() => {
        previous = engineInfo()?.backend;
      });
      after(async () => {
        resetEngineChoice();
        if (previous) await initEngine(previous);
      });

      it('on a CPU without AVX2, auto passes native over (the report says why) and runs wasm', async () => {
        const noTensorflow = (id: string): unknown => {
          throw Object.assign(new Error(`Cannot find module '${id}'`), { code: 'MODULE_NOT_FOUND' });
        };
        let asked = false;
        const oldCpu = {
          ...native,
          loadNativeBackend: () => native.loadNativeBackend({ cpu: WESTMERE }).finally(() => (asked = true)),
        };
        resetEngineChoice();
        const info = await initEngine('auto', { requireTensorflow: noTensorflow, loadNative: () => oldCpu });
        assert.ok(asked, 'the native loader was asked');
        assert.equal(info.backend, 'wasm');
        const nat = info.attempts.find((a) => a.name === 'native');
        assert.equal(nat?.ok, false);
        assert.match(describeEngine(info), /^ {2}- native +this CPU lacks AVX2 and FMA \(the native kernels are built for x86-64 with AVX2 and FMA; running them would crash\)$/m);
        resetEngineChoice();
        await assert.rejects(initEngine('native', { loadNative: () => oldCpu }), /The native backend cannot run here: this CPU lacks AVX2 and FMA/);
      });

      it('on this CPU the report says what the check found', async function () {
        await requireNative(this);
        resetEngineChoice();
        const info = await initEngine('native');
        assert.match(info.attempts.find((a) => a.name === 'native')?.detail ?? '', /^C\+\+ kernels \((AVX2\+FMA|NEON); CPU checked: (AVX2\+FMA|NEON)/);
      });
    });
  });

  describe('exceptions inside kernels', () => {
    before(async function () {
      await requireNative(this);
    });

    /** C = A·B through the addon, checked against plain loops. */
    function gemmWorks(m: number, n: number, k: number, seed: number): void {
      const addon = loadAddon();
      const a = randomArray(m * k, seed);
      const b = randomArray(k * n, seed + 1);
      const c = new Float32Array(m * n);
      addon.gemm(a, k, 1, b, n, 1, c, n, m, n, k, 1, 0, null, 1, 0, 0, 0, 0);
      const want = new Float32Array(m * n);
      for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) s += a[i * k + p] * b[p * n + j];
        want[i * n + j] = s;
      }
      assertClose(c, want, `gemm ${m}x${n}x${k}`, 1e-3, 1e-3);
    }

    it('an allocation failure on the pool threads is a JavaScript Error, and the pool keeps working', () => {
      const addon = loadAddon();
      gemmWorks(64, 96, 80, 1);
      // Each of the two (batch, head) tasks asks for a row of 2^46 scores: 256 TiB, more than any address
      // space, so the allocation fails on whichever pool thread runs it. d = 0 and tq = 0 keep the buffers empty.
      const huge = 2 ** 46;
      const empty = new Float32Array(0);
      for (let round = 0; round < 3; round++) {
        assert.throws(
          () => addon.attentionForward(empty, empty, empty, 8, 0, huge, 0, 0, empty, empty, null),
          (e: unknown) => e instanceof Error && /^native attentionForward: out of memory/.test(e.message),
        );
        // The next calls run on the same pool, multi-threaded (this GEMM is split into tiles), and are right.
        gemmWorks(200, 300, 150, 10 + round);
      }
    });

    it('a bad argument is still a RangeError naming the buffer, and the next call works', () => {
      const addon = loadAddon();
      assert.throws(() => addon.geluForward(new Float32Array(4), new Float32Array(2), 4), /^RangeError: y: buffer holds 2 elements, needs 4$/);
      const y = new Float32Array(2);
      addon.geluForward(new Float32Array([0, 1]), y, 2);
      // GELU(1) with the tanh form: 0.5·(1 + tanh(√(2/π)·1.044715)) = 0.841192
      assertClose(y, [0, 0.841192], 'gelu', 1e-5, 0);
    });
  });
});
