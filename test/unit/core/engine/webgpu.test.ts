// The WebGPU backend on SwiftShader (LLM_LAB_WEBGPU_SOFTWARE=1 and Debian's chromium package): every WGSL model
// op against the portable reference computed on the cpu backend (values and gradients), and a small GPT's loss
// and gradients. Reads from the GPU are asynchronous (dataSync cannot wait for Dawn in Node), so these tests read
// with data(). Shapes are small: SwiftShader runs about 0.25 GFLOP/s.
import * as assert from 'node:assert/strict';
import type { BackendName } from '../../../../src/core/engine';
import { describeEngine, engineInfo, initEngine, resetEngineChoice, tf } from '../../../../src/core/engine';
import * as ops from '../../../../src/core/engine/ops';
import type { GpuAdapter, GpuAdapterInfo, WebgpuDeps } from '../../../../src/core/engine/webgpu/loader';
import { describeAdapter, startWebgpuBackend } from '../../../../src/core/engine/webgpu/loader';
import { makeConfig } from '../../../../src/core/model/config';
import { GptModel } from '../../../../src/core/model/gpt';
import { registerGradients } from '../../../../src/core/engine/gradients';
import { seeded, seededIds, valueAndGrads } from './opsHelpers';
import { startSoftwareWebgpu } from './webgpuHelpers';

/** Plain numbers of a value and its gradients. */
interface Result {
  value: Float32Array;
  grads: Float32Array[];
}

type Make = () => tf.Tensor[];
type Op = (...xs: tf.Tensor[]) => tf.Tensor;

async function read(t: tf.Tensor): Promise<Float32Array> {
  return Float32Array.from(await t.data());
}

/** Runs `op` on fresh inputs from `make` on the active backend; value and gradients as arrays. */
async function evaluate(make: Make, op: Op): Promise<Result> {
  const inputs = make();
  const { value, grads } = valueAndGrads(op, inputs);
  const out = { value: await read(value), grads: await Promise.all(grads.map(read)) };
  tf.dispose([value, ...grads, ...inputs]);
  return out;
}

function close(actual: Float32Array, expected: Float32Array, what: string, atol = 1e-5, rtol = 1e-4): void {
  assert.equal(actual.length, expected.length, `${what}: size`);
  let worst = 0;
  let scale = 0;
  expected.forEach((e, i) => {
    worst = Math.max(worst, Math.abs(actual[i] - e));
    scale = Math.max(scale, Math.abs(e));
  });
  assert.ok(Number.isFinite(worst), `${what}: not finite`);
  assert.ok(worst <= atol + rtol * scale, `${what}: max difference ${worst} (values up to ${scale})`);
}

/** The fused op on webgpu against the portable op on cpu, on the same seeded inputs. */
async function againstCpu(what: string, make: Make, fused: Op, reference: Op, tol = { atol: 1e-5, rtol: 1e-4 }): Promise<void> {
  await tf.setBackend('cpu');
  const want = await evaluate(make, reference);
  await tf.setBackend('webgpu');
  const got = await evaluate(make, fused);
  close(got.value, want.value, `${what} value`, tol.atol, tol.rtol);
  assert.equal(got.grads.length, want.grads.length);
  got.grads.forEach((g, i) => close(g, want.grads[i], `${what} gradient ${i}`, tol.atol, tol.rtol));
}

/** Runs `body` twice and asserts the second left no tensors. */
async function noLeak(body: () => Promise<void>, what: string): Promise<void> {
  await body();
  const before = tf.memory().numTensors;
  await body();
  assert.equal(tf.memory().numTensors, before, `${what} leaked tensors`);
}

describe('webgpu backend on SwiftShader: WGSL ops against the cpu reference', function () {
  let previous: BackendName | undefined;

  before(async function () {
    assert.equal(registerGradients(), undefined);
    previous = engineInfo()?.backend;
    await startSoftwareWebgpu();
  });

  after(async () => {
    if (previous) await initEngine(previous);
  });

  it('every model op but lmLogits has a webgpu version', () => {
    assert.deepEqual(engineInfo()!.fusedOps.sort(), ['adamw', 'causalAttention', 'crossEntropy', 'embedding', 'gelu', 'layerNorm', 'linear']);
  });

  it('linear, with and without bias', async () => {
    const make = () => [seeded([3, 5, 7], 1), seeded([7, 11], 2), seeded([11], 3)];
    await againstCpu('linear+bias', make, (x, w, b) => ops.linear(x, w as tf.Tensor2D, b as tf.Tensor1D),
      (x, w, b) => ops.portable.linear(x, w as tf.Tensor2D, b as tf.Tensor1D));
    await againstCpu('linear', () => [seeded([13, 7], 4), seeded([7, 11], 2)], (x, w) => ops.linear(x, w as tf.Tensor2D),
      (x, w) => ops.portable.linear(x, w as tf.Tensor2D));
  });

  it('embedding: repeated ids add up in the table gradient, unused rows get zero', async () => {
    const idRows = [[3, 5, 3, 18, 0], [5, 5, 2, 3, 11], [0, 18, 18, 1, 3]];
    const ids = () => tf.tensor2d(idRows, [3, 5], 'int32');
    let idsHeld: tf.Tensor[] = [];
    const op = (fused: boolean): Op => (t) => {
      const i = ids();
      idsHeld.push(i);
      return (fused ? ops.embedding : ops.portable.embedding)(i as tf.Tensor2D, t as tf.Tensor2D);
    };
    // The reference is the lookup as a one-hot matmul on cpu; gather's own gradient is TensorFlow.js's.
    const oneHot: Op = (t) => tf.reshape(tf.matMul(tf.oneHot(tf.tensor1d(idRows.flat(), 'int32'), 19), t as tf.Tensor2D), [3, 5, 7]);
    await againstCpu('embedding', () => [seeded([19, 7], 7)], op(true), oneHot);
    tf.dispose(idsHeld);
    idsHeld = [];
    const table = seeded([19, 7], 7);
    const { grads } = valueAndGrads(op(true), [table]);
    const g = await grads[0].data();
    assert.deepEqual(Array.from(g.slice(4 * 7, 5 * 7)), new Array(7).fill(0), 'id 4 never appears: zero gradient');
    tf.dispose([table, ...grads, ...idsHeld]);
  });

  it('layerNorm and gelu', async () => {
    const make = () => [seeded([3, 5, 9], 8, 3), seeded([9], 9), seeded([9], 10)];
    await againstCpu('layerNorm', make, (x, g, b) => ops.layerNorm(x, g as tf.Tensor1D, b as tf.Tensor1D),
      (x, g, b) => ops.portable.layerNorm(x, g as tf.Tensor1D, b as tf.Tensor1D), { atol: 1e-4, rtol: 1e-4 });
    await againstCpu('gelu', () => [seeded([3, 5, 9], 8, 4)], (x) => ops.gelu(x), (x) => ops.portable.gelu(x));
    // Far in the tails tanh saturates: the value is x or 0 and nothing is NaN.
    await againstCpu('gelu tails', () => [tf.tensor1d([-60, -12, 12, 60])], (x) => ops.gelu(x), (x) => ops.portable.gelu(x));
  });

  it('causalAttention: full, with an offset (cached keys), and its weights', async () => {
    const att = (o: number, fused: boolean): Op => (q, k, v) =>
      (fused ? ops.causalAttention : ops.portable.causalAttention)(q as tf.Tensor4D, k as tf.Tensor4D, v as tf.Tensor4D, { offset: o }).out;
    const full = () => [seeded([2, 3, 5, 4], 11), seeded([2, 3, 5, 4], 12), seeded([2, 3, 5, 4], 13)];
    await againstCpu('attention', full, att(0, true), att(0, false));
    const cached = () => [seeded([2, 3, 2, 4], 14), seeded([2, 3, 5, 4], 12), seeded([2, 3, 5, 4], 13)]; // 2 new after 3 cached
    await againstCpu('attention offset 3', cached, att(3, true), att(3, false));
    const weights = (fused: boolean) => async (): Promise<Float32Array> => {
      const [q, k, v] = cached();
      const w = (fused ? ops.causalAttention : ops.portable.causalAttention)(q as tf.Tensor4D, k as tf.Tensor4D, v as tf.Tensor4D, { offset: 3, returnWeights: true });
      const out = await read(w.weights!);
      tf.dispose([q, k, v, w.out, w.weights!]);
      return out;
    };
    await tf.setBackend('cpu');
    const want = await weights(false)();
    await tf.setBackend('webgpu');
    const got = await weights(true)();
    close(got, want, 'attention weights');
    // Query 0 sits at position 3: key 4 is in its future.
    assert.equal(got[4], 0, 'weights above the causal diagonal are zero');
  });

  it('crossEntropy: ignored rows, another ignoreIndex, extreme logits, only ignored rows', async () => {
    const ce = (targets: number[], ignore: number, fused: boolean): Op => (l) =>
      (fused ? ops.crossEntropy : ops.portable.crossEntropy)(l as tf.Tensor2D, tf.tensor1d(targets, 'int32'), ignore);
    const t1 = [3, -100, 12, 0, 7, -100, 5];
    await againstCpu('crossEntropy', () => [seeded([7, 13], 15, 4)], ce(t1, -100, true), ce(t1, -100, false));
    const t2 = [1, 2, 99, 4, 5, 6, 7];
    await againstCpu('crossEntropy ignore 99', () => [seeded([7, 13], 15, 4)], ce(t2, 99, true), ce(t2, 99, false));
    const extreme = () => [tf.tensor2d([[0, -150, 2, 1], [5, 4, 3, -120]], [2, 4])];
    await againstCpu('crossEntropy extreme', extreme, ce([1, 3], -100, true), ce([1, 3], -100, false));
    const loss = ops.crossEntropy(tf.tensor2d([[0, -150, 2, 1], [5, 4, 3, -120]], [2, 4]), tf.tensor1d([1, 3], 'int32'));
    const value = (await loss.data())[0];
    assert.ok(Math.abs(value - 138.9076) < 1e-3, `loss ${value} ≈ (152.4076 + 125.4076) / 2`);
    const none = ops.crossEntropy(seeded([2, 5], 16) as tf.Tensor2D, tf.tensor1d([-100, -100], 'int32'));
    assert.equal((await none.data())[0], 0, 'only ignored rows: 0, not NaN');
    tf.dispose([loss, none]);
  });

  it('adamw: two steps match the reference on cpu, with and without decay', async () => {
    const run = async (fused: boolean, weightDecay: number): Promise<Float32Array[]> => {
      const p = tf.variable(seeded([5, 3], 17));
      const m = tf.variable(tf.zeros([5, 3]));
      const v = tf.variable(tf.zeros([5, 3]));
      for (let step = 1; step <= 2; step++) {
        const g = seeded([5, 3], 20 + step);
        (fused ? ops.adamw : ops.portable.adamw)(p, g, m, v, { lr: 0.01, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay, step });
        g.dispose();
      }
      const out = [await read(p), await read(m), await read(v)];
      tf.dispose([p, m, v]);
      return out;
    };
    for (const wd of [0, 0.1]) {
      await tf.setBackend('cpu');
      const want = await run(false, wd);
      await tf.setBackend('webgpu');
      const got = await run(true, wd);
      ['param', 'm', 'v'].forEach((name, i) => close(got[i], want[i], `adamw ${name} (decay ${wd})`, 1e-6, 1e-5));
      assert.ok(Math.abs(got[0][0] - seeded([5, 3], 17).dataSync()[0]) > 1e-3, 'the step moved the parameter');
    }
  });

  it('forward and backward of every op leave no tensors behind', async () => {
    await tf.setBackend('webgpu');
    const ids = tf.tensor2d([[1, 2, 3]], [1, 3], 'int32');
    const targets = tf.tensor1d([4, 5, 6], 'int32');
    await noLeak(async () => {
      const inputs = [seeded([7, 6], 1), seeded([6, 6], 2), seeded([6], 3), seeded([6], 4)];
      const { value, grads } = valueAndGrads((table, w, g, b) => {
        const x = ops.embedding(ids as tf.Tensor2D, table as tf.Tensor2D); // (1, 3, 6)
        const h = ops.gelu(ops.linear(ops.layerNorm(x, g as tf.Tensor1D, b as tf.Tensor1D), w as tf.Tensor2D, b as tf.Tensor1D));
        const q = tf.reshape(h, [1, 2, 3, 3]) as tf.Tensor4D; // (B, H, T, D)
        const a = ops.causalAttention(q, q, q).out;
        const logits = ops.lmLogits(tf.reshape(a, [3, 6]) as tf.Tensor2D, table as tf.Tensor2D); // (3, 7)
        return ops.crossEntropy(logits, targets as tf.Tensor1D);
      }, inputs);
      await value.data();
      tf.dispose([value, ...grads, ...inputs]);
    }, 'every op');
    tf.dispose([ids, targets]);
  });

  it('a small GPT has the same loss and gradients as on cpu', async () => {
    const cfg = makeConfig('tiny', { vocabSize: 61, contextLength: 9, embDim: 12, nHeads: 3, nLayers: 2 });
    const run = async (): Promise<{ loss: number; grads: Map<string, Float32Array> }> => {
      const model = GptModel.create(cfg, 5);
      const ids = seededIds([2, 9], 40, 61);
      const targets = seededIds([2, 9], 41, 61);
      const { value, grads } = tf.variableGrads(() => model.loss(ids as tf.Tensor2D, targets as tf.Tensor2D), model.trainableVariables());
      const out = { loss: (await value.data())[0], grads: new Map<string, Float32Array>() };
      for (const [name, v] of model.params) out.grads.set(name, await read(grads[v.name]));
      tf.dispose([value, ids, targets, ...Object.values(grads)]);
      model.dispose();
      return out;
    };
    await tf.setBackend('cpu');
    const onCpu = await run();
    await tf.setBackend('webgpu');
    const onGpu = await run();
    assert.ok(Math.abs(onCpu.loss - onGpu.loss) < 1e-5, `loss cpu ${onCpu.loss} vs webgpu ${onGpu.loss}`);
    for (const [name, g] of onCpu.grads) close(onGpu.grads.get(name)!, g, name, 1e-6, 1e-4);
  });
});

describe('webgpu backend: why it cannot run, and the engine report', () => {
  const fakeBackendPackage = { WebGPUBackend: class {} };
  const adapter = (info: GpuAdapterInfo): GpuAdapter => ({
    info, features: new Set(), limits: { maxBufferSize: 2 ** 30, maxStorageBufferBindingSize: 2 ** 27 }, requestDevice: () => Promise.resolve({}),
  });
  const deps = (over: Partial<WebgpuDeps>): WebgpuDeps => ({
    require: () => fakeBackendPackage,
    loadDawn: () => ({ create: () => ({ requestAdapter: () => Promise.resolve(null) }), globals: {} }),
    vulkanMissing: () => undefined,
    software: false,
    ...over,
  });
  const notFound = (id: string): Error => Object.assign(new Error(`Cannot find module '${id}'`), { code: 'MODULE_NOT_FOUND' });

  it('package missing: says which optional packages to install', async () => {
    await assert.rejects(startWebgpuBackend(deps({ require: (id) => { throw notFound(id); } })),
      /^Error: not installed \(npm install @tensorflow\/tfjs-backend-webgpu webgpu: optional dependencies\)$/);
    await assert.rejects(startWebgpuBackend(deps({ loadDawn: () => { throw new Error('not installed: no Dawn binary for linux-x64 (npm install webgpu, an optional dependency)'); } })),
      /^Error: not installed: no Dawn binary for linux-x64/);
  });

  it('no Vulkan loader, no adapter, only a software adapter', async () => {
    await assert.rejects(startWebgpuBackend(deps({ vulkanMissing: () => 'no Vulkan loader (libvulkan.so.1 cannot be opened: install libvulkan1)' })), /^Error: no Vulkan loader/);
    await assert.rejects(startWebgpuBackend(deps({})), /^Error: no adapter: the Vulkan\/Metal\/D3D12 driver reports no GPU \(set LLM_LAB_WEBGPU_SOFTWARE=1/);
    const lavapipe = adapter({ vendor: 'mesa', architecture: 'llvmpipe', description: 'Mesa lavapipe', isFallbackAdapter: true });
    const soft = deps({ loadDawn: () => ({ create: () => ({ requestAdapter: () => Promise.resolve(lavapipe) }), globals: {} }) });
    await assert.rejects(startWebgpuBackend(soft), (e: Error) => {
      assert.match(e.message, /^only a software adapter: mesa llvmpipe \(Mesa lavapipe\) \[software\], max buffer 1024 MiB, max binding 128 MiB;/);
      assert.match(e.message, /LLM_LAB_WEBGPU_SOFTWARE=1 allows it/);
      return true;
    });
  });

  it('the adapter is described by vendor, architecture and memory limits', () => {
    const text = describeAdapter({ vendor: 'nvidia', architecture: 'ampere', description: 'NVIDIA RTX A4000' }, { maxBufferSize: 2 ** 32, maxStorageBufferBindingSize: 2 ** 31 });
    assert.equal(text, 'nvidia ampere (NVIDIA RTX A4000), max buffer 4096 MiB, max binding 2048 MiB');
  });

  it('on SwiftShader: --backend webgpu runs it and the report names it; auto does not take a software adapter', async () => {
    const previous = engineInfo()?.backend;
    const info = await startSoftwareWebgpu();
    const report = describeEngine(info);
    assert.match(report, /^Backend: webgpu — WebGPU on Dawn: google swiftshader \(SwiftShader driver [\d.]+.*\) \[software\], max buffer \d+ MiB/m);
    assert.match(report, /^Fused ops: .*causalAttention/m);
    resetEngineChoice();
    const auto = await initEngine('auto');
    assert.notEqual(auto.backend, 'webgpu');
    assert.match(auto.attempts.find((a) => a.name === 'webgpu')!.detail, /^only a software adapter \(WebGPU on Dawn: google swiftshader.*\); auto does not take it/);
    if (previous) await initEngine(previous);
  });
});
