// On an x86-64 CPU without AVX2 (qemu-x86_64 playing a Westmere), LLM Lab must not crash: `llm-lab info`
// reports why native is not used and runs on wasm. The control shows the emulated CPU really lacks AVX2:
// calling the kernels directly there dies with SIGILL, which is what the CPU check prevents.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ROOT, ensureTools, run } from './tools';

const CPU = 'Westmere'; // SSE4.2, no AVX

describe('native on a CPU without AVX2 (emulated)', function () {
  before(function () {
    if (process.platform !== 'linux' || process.arch !== 'x64') this.skip();
    ensureTools([{ bin: 'qemu-x86_64', pkg: 'qemu-user' }]);
    for (const f of ['dist/cli.js', 'build/Release/llm_lab_native.node', 'build/Release/llm_lab_cpu.node']) {
      assert.ok(fs.existsSync(path.join(ROOT, f)), `${f} is missing: run npm run build and npm run build:native`);
    }
  });

  it('llm-lab info passes native over with the reason and runs wasm', () => {
    const r = run('qemu-x86_64', ['-cpu', CPU, process.execPath, 'dist/cli.js', 'info']);
    assert.equal(r.status, 0, r.out);
    assert.match(r.out, /^Backend: wasm /m, r.out);
    assert.match(r.out, /^ {2}- native +this CPU lacks AVX2 and FMA \(the native kernels are built for x86-64 with AVX2 and FMA; running them would crash\)$/m, r.out);
  });

  it('control: the kernels called directly on that CPU die with SIGILL', () => {
    const script =
      "const a = require('./build/Release/llm_lab_native.node'); const x = new Float32Array(4096);" +
      'a.gemm(x, 64, 1, x, 64, 1, new Float32Array(4096), 64, 64, 64, 64, 1, 0, null, 1, 0, 0, 0, 0); console.log("ran")';
    const r = run('qemu-x86_64', ['-cpu', CPU, process.execPath, '-e', script]);
    assert.doesNotMatch(r.out, /^ran$/m, 'the emulated CPU ran AVX2 code: it does not stand for an old CPU');
    assert.ok(r.signal === 'SIGILL' || /Illegal instruction|signal 4/.test(r.out), r.out);
  });
});
