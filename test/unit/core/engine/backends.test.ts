// Backend choice: the reasons recorded for tfjs-node(-gpu) and native from the errors their loading throws
// (played by fake loaders), a clear error for a named backend that cannot run, the auto order, the wasm
// backend's threads and files, and the text `llm-lab info` prints.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { BackendName, EngineInfo } from '../../../../src/core/engine';
import { AUTO_ORDER, describeEngine, engineInfo, initEngine, resetEngineChoice, tf } from '../../../../src/core/engine';
import { startNative, startTensorflow, tensorflowLoadReason } from '../../../../src/core/engine/backends';
import { defaultThreads, findDir } from '../../../../src/core/engine/wasm/loader';
import { LlmLabError } from '../../../../src/core/errors';
import { registerGradients } from '../../../../src/core/engine/gradients';

function moduleNotFound(id: string): Error {
  return Object.assign(new Error(`Cannot find module '${id}'\nRequire stack:\n- /x/y.js`), { code: 'MODULE_NOT_FOUND' });
}

/** A fake `require` that throws the given error for each package. */
function failingRequire(errors: Record<string, Error>): (id: string) => unknown {
  return (id) => {
    throw errors[id] ?? moduleNotFound(id);
  };
}

describe('engine backend choice', () => {
  let previous: BackendName | undefined;
  before(() => {
    assert.equal(registerGradients(), undefined);
    previous = engineInfo()?.backend;
  });
  after(async () => {
    if (previous) await initEngine(previous);
  });

  describe('reasons tfjs-node cannot load', () => {
    it('not installed: says how to install, and the offline mirror variables', () => {
      const why = tensorflowLoadReason('@tensorflow/tfjs-node-gpu', moduleNotFound('@tensorflow/tfjs-node-gpu'));
      assert.match(why, /^not installed \(npm install @tensorflow\/tfjs-node-gpu; offline: set TFJS_NODE_CDN_STORAGE\/TFJS_NODE_BASE_URI/);
    });

    it('CUDA libraries missing: names the library from the load error', () => {
      const e = new Error('libcudart.so.11.0: cannot open shared object file: No such file or directory');
      const why = tensorflowLoadReason('@tensorflow/tfjs-node-gpu', e);
      assert.match(why, /^CUDA libraries not found: libcudart\.so\.11\.0 /);
      assert.match(tensorflowLoadReason('@tensorflow/tfjs-node-gpu', new Error('libcudnn.so.8: cannot open shared object file')), /CUDA libraries not found: libcudnn\.so\.8/);
    });

    it('installed without its binding, libtensorflow missing, old glibc, other Node.js, a missing dependency', () => {
      const pkg = '@tensorflow/tfjs-node';
      const binding = moduleNotFound('/app/node_modules/@tensorflow/tfjs-node/lib/napi-v8/tfjs_binding.node');
      assert.match(tensorflowLoadReason(pkg, binding), /native binding is missing.*npm rebuild @tensorflow\/tfjs-node/);
      assert.match(tensorflowLoadReason(pkg, new Error('libtensorflow.so.2: cannot open shared object file')), /^libtensorflow not found: libtensorflow\.so\.2/);
      assert.match(tensorflowLoadReason(pkg, new Error("/lib/x86_64-linux-gnu/libc.so.6: version `GLIBC_2.29' not found")), /C library is too old: GLIBC_2\.29 not found/);
      assert.match(tensorflowLoadReason(pkg, new Error('was compiled against a different Node.js version using NODE_MODULE_VERSION 93')), /another Node\.js version/);
      assert.match(tensorflowLoadReason(pkg, moduleNotFound('@tensorflow/tfjs')), /a module it needs is missing: @tensorflow\/tfjs/);
      assert.equal(tensorflowLoadReason(pkg, new Error('boom\nstack')), 'failed to load: boom');
    });

    it('tries tfjs-node-gpu, then tfjs-node, and reports both reasons', async () => {
      const asked: string[] = [];
      const req = (id: string): unknown => {
        asked.push(id);
        if (id.endsWith('-gpu')) throw new Error('libcublas.so.11: cannot open shared object file');
        throw moduleNotFound(id);
      };
      await assert.rejects(startTensorflow(req), (e: Error) => {
        assert.match(e.message, /@tensorflow\/tfjs-node-gpu: CUDA libraries not found: libcublas\.so\.11/);
        assert.match(e.message, /@tensorflow\/tfjs-node: not installed/);
        return true;
      });
      assert.deepEqual(asked, ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']);
    });

    it('a package that loads but registers no backend with our tfjs-core is reported, not used', async () => {
      await assert.rejects(startTensorflow(() => ({})), /registered no 'tensorflow' backend with this copy of @tensorflow\/tfjs-core/);
    });
  });

  describe('native', () => {
    it('is "not built" when its module is absent', async () => {
      await assert.rejects(startNative(() => {
        throw moduleNotFound('./native');
      }), /^Error: not built: run npm run build:native$/);
    });

    it('passes on the reason loadNativeBackend gives', async () => {
      const fake = { loadNativeBackend: () => Promise.reject(new Error('no C++ compiler was found at install')) };
      await assert.rejects(startNative(() => fake), /no C\+\+ compiler was found at install/);
    });
  });

  describe('initEngine', () => {
    const noTensorflow = failingRequire({});
    const noNative = (): unknown => {
      throw moduleNotFound('./native');
    };
    const noWebgpu = () => ({ loadWebgpuBackend: () => Promise.reject(new Error('no adapter: the Vulkan/Metal/D3D12 driver reports no GPU')) });

    it('a named backend that cannot run is an LlmLabError saying why and what to do', async () => {
      await assert.rejects(initEngine('tensorflow', { requireTensorflow: noTensorflow }), (e: unknown) => {
        assert.ok(e instanceof LlmLabError);
        assert.equal(e.code, 'backend');
        assert.match(e.message, /^The tensorflow backend cannot run here: @tensorflow\/tfjs-node-gpu: not installed/);
        assert.match(e.message, /Use --backend auto/);
        return true;
      });
      await assert.rejects(initEngine('native', { loadNative: noNative }), /The native backend cannot run here: not built: run npm run build:native/);
    });

    it('rejects an unknown backend name', async () => {
      await assert.rejects(initEngine('gpu' as never), (e: unknown) => e instanceof LlmLabError && e.code === 'bad-argument' && /tensorflow, webgpu, native, wasm, cpu/.test(e.message));
    });

    it('auto goes tensorflow → webgpu → native → wasm and records every reason', async () => {
      await initEngine('cpu');
      const info = await initEngine('wasm', { requireTensorflow: noTensorflow, loadNative: noNative, loadWebgpu: noWebgpu });
      assert.equal(info.backend, 'wasm');
      const auto = await initEngine('auto'); // the running backend is kept
      assert.equal(auto, info);
      await initEngine('cpu');
      const fresh = await freshAuto(noTensorflow, noNative);
      assert.equal(fresh.backend, 'wasm');
      assert.deepEqual(fresh.attempts.map((a) => a.name), [...AUTO_ORDER]);
      assert.match(attempt(fresh, 'tensorflow').detail, /not installed/);
      assert.match(attempt(fresh, 'webgpu').detail, /^no adapter/);
      assert.match(attempt(fresh, 'native').detail, /not built/);
      assert.equal(attempt(fresh, 'wasm').ok, true);
      assert.match(attempt(fresh, 'cpu').detail, /available, not used/);
      assert.equal(tf.getBackend(), 'wasm');
      assert.deepEqual([...fresh.fusedOps].sort(), ['adamw', 'causalAttention', 'crossEntropy', 'embedding', 'gelu', 'layerNorm', 'linear', 'lmLogits']);
    });

    it('runs wasm on every core it is allowed (at most 8), from files it finds', async () => {
      const info = await initEngine('wasm');
      assert.equal(info.threads, defaultThreads(), attempt(info, 'wasm').detail);
      assert.match(attempt(info, 'wasm').detail, new RegExp(`${info.threads} threads?`));
      const rethrowers = process.listeners('uncaughtException').filter((l) => /ExitStatus/.test(String(l)));
      assert.equal(rethrowers.length, 0, "Emscripten's process-wide rethrowing handler was removed");
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'llm-lab-find-'));
      fs.writeFileSync(path.join(dir, 'a.wasm'), '');
      assert.equal(findDir(['/nonexistent', dir], ['a.wasm']), dir);
      assert.equal(findDir([dir], ['a.wasm', 'b.js']), undefined);
      fs.rmSync(dir, { recursive: true });
    });

    it('describeEngine names the backend in use and why each other one is not', async () => {
      const info: EngineInfo = {
        backend: 'wasm',
        threads: 2,
        fusedOps: ['linear', 'crossEntropy'],
        attempts: [
          { name: 'tensorflow', ok: false, detail: '@tensorflow/tfjs-node: not installed (npm install @tensorflow/tfjs-node)' },
          { name: 'native', ok: false, detail: 'not built: run npm run build:native' },
          { name: 'wasm', ok: true, detail: 'XNNPACK on WebAssembly SIMD, 2 threads' },
          { name: 'cpu', ok: false, detail: 'available, not used (wasm comes first)' },
        ],
      };
      const text = describeEngine(info);
      assert.match(text, /^Backend: wasm — XNNPACK on WebAssembly SIMD, 2 threads$/m);
      assert.match(text, /^Threads: 2$/m);
      assert.match(text, /^Fused ops: linear, crossEntropy$/m);
      assert.match(text, /^ {2}- tensorflow {2}@tensorflow\/tfjs-node: not installed/m);
      assert.match(text, /^ {2}- native {6}not built: run npm run build:native$/m);
      assert.match(text, /^ {2}\* wasm {8}in use$/m);
      assert.doesNotMatch(text, /Training: unavailable/);
      const noGrads = describeEngine({ ...info, gradientsMissing: 'the gradient bundle is not built: run npm run build:native' });
      assert.match(noGrads, /^Training: unavailable, gradients are not registered \(the gradient bundle is not built: run npm run build:native\)$/m);
    });

    it('registers gradients from the bundle built into build/, and says how to fix a missing or broken one', () => {
      const saved = tf.getGradient('Sum')!;
      const broken = path.join(os.tmpdir(), `llm-lab-broken-gradients-${process.pid}.cjs`);
      fs.writeFileSync(broken, 'throw new Error("truncated file");\n');
      tf.unregisterGradient('Sum');
      try {
        assert.equal(registerGradients(path.join(os.tmpdir(), 'no-such-bundle.cjs')), 'the gradient bundle build/tfjs-gradients.cjs is missing: run npm run build');
        assert.match(registerGradients(broken) ?? '', /could not load \(truncated file\): run npm run build/);
        assert.equal(tf.getGradient('Sum'), undefined);
        assert.equal(registerGradients(), undefined);
        assert.ok(tf.getGradient('Sum'), 'the bundle in build/ registered no gradient for Sum');
      } finally {
        if (!tf.getGradient('Sum')) tf.registerGradient(saved);
        fs.rmSync(broken, { force: true });
      }
    });
  });
});

/** initEngine('auto') as on a fresh start (no GPU): forgets the running backend first. */
async function freshAuto(req: (id: string) => unknown, loadNative: () => unknown): Promise<EngineInfo> {
  resetEngineChoice();
  const loadWebgpu = () => ({ loadWebgpuBackend: () => Promise.reject(new Error('no adapter: the Vulkan/Metal/D3D12 driver reports no GPU')) });
  return initEngine('auto', { requireTensorflow: req, loadNative, loadWebgpu });
}

function attempt(info: EngineInfo, name: BackendName): EngineInfo['attempts'][number] {
  const a = info.attempts.find((x) => x.name === name);
  assert.ok(a, `no attempt recorded for ${name}`);
  return a;
}
