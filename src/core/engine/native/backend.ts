// The 'native' TensorFlow.js backend: tfjs-backend-cpu's MathBackendCPU (tensor data stay plain JS typed
// arrays) with every cpu kernel registered under 'native' too, and the heavy ones (BatchMatMul,
// _FusedMatMul, Slice, SplitV, Transpose, Add) replaced by calls into the C++ addon, which works on the arrays in place.
import * as tf from '@tensorflow/tfjs-core';
import type { backend_util, DataType, KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import type { NativeAddon } from './addon';
import { countedKernel, cpuKernel } from './jsKernels';
import { LAYOUT_KERNELS } from './layoutKernels';

export const NATIVE_BACKEND = 'native';

type DataId = object;

/** Buffers at least this long (floats) are recycled when their tensor is disposed. */
const POOL_MIN_FLOATS = 1 << 16;
/** Most bytes kept for reuse. */
const POOL_MAX_BYTES = 768 * 1024 * 1024;

export class NativeBackend extends MathBackendCPU {
  /** Arrays this backend handed out with take(): the only ones it may recycle. */
  private readonly owned = new WeakSet<Float32Array>();
  /** Buffers that code outside the backend has seen (read, dataSync, views, arrays it wrote in). */
  private readonly escaped = new WeakSet<ArrayBufferLike>();
  private readonly free = new Map<number, Float32Array[]>();
  private freeBytes = 0;

  constructor(readonly addon: NativeAddon) {
    super();
  }

  /**
   * A float32 buffer for a kernel output. Large ones may be recycled and hold stale values: the caller
   * must overwrite every element (every native kernel does).
   */
  take(n: number): Float32Array {
    if (n >= POOL_MIN_FLOATS) {
      const list = this.free.get(n);
      const reused = list?.pop();
      if (reused) {
        this.freeBytes -= reused.byteLength;
        return reused;
      }
    }
    const a = new Float32Array(n);
    if (n >= POOL_MIN_FLOATS) this.owned.add(a);
    return a;
  }

  override write(values: backend_util.BackendValues, shape: number[], dtype: DataType): DataId {
    this.noteForeign(values);
    return super.write(values, shape, dtype);
  }

  override move(dataId: DataId, values: backend_util.BackendValues, shape: number[], dtype: DataType, refCount: number): void {
    this.noteForeign(values);
    super.move(dataId, values, shape, dtype, refCount);
  }

  override readSync(dataId: DataId): backend_util.BackendValues {
    const v = super.readSync(dataId);
    if (ArrayBuffer.isView(v)) this.escaped.add(v.buffer);
    return v;
  }

  override async read(dataId: DataId): Promise<backend_util.BackendValues> {
    return this.readSync(dataId);
  }

  override disposeData(dataId: DataId, force = false): boolean {
    const values = this.data.has(dataId) ? this.data.get(dataId).values : undefined;
    const done = super.disposeData(dataId, force);
    if (done && values instanceof Float32Array && !this.data.has(dataId)) this.recycle(values);
    return done;
  }

  private noteForeign(values: backend_util.BackendValues | undefined): void {
    if (ArrayBuffer.isView(values) && !(values instanceof Float32Array && this.owned.has(values))) {
      this.escaped.add(values.buffer);
    }
  }

  private recycle(a: Float32Array): void {
    if (!this.owned.has(a) || this.escaped.has(a.buffer) || this.freeBytes + a.byteLength > POOL_MAX_BYTES) return;
    const list = this.free.get(a.length) ?? [];
    if (list.length >= 8 || list.includes(a)) return;
    list.push(a);
    this.free.set(a.length, list);
    this.freeBytes += a.byteLength;
  }

  /**
   * target += source in place, when target's buffer is this backend's own kernel output that no other tensor or
   * outside code can see (one reference, never read out or viewed); false when it cannot (the caller then adds
   * out of place). The backward pass uses it to accumulate a gradient without a third buffer.
   */
  addInto(target: TensorInfo, source: TensorInfo): boolean {
    if (target.dtype !== 'float32' || source.dtype !== 'float32' || target.dataId === source.dataId) return false;
    if (!tf.util.arraysEqual(target.shape, source.shape) || this.refCount(target.dataId) !== 1) return false;
    const t = this.data.get(target.dataId).values;
    if (!(t instanceof Float32Array) || !this.owned.has(t) || this.escaped.has(t.buffer)) return false;
    const s = this.f32(source);
    if (s.buffer === t.buffer) return false;
    this.addon.addRepeat(t, t.length, s, s.length, t);
    return true;
  }

  /** Drops every recycled buffer (for memory measurements and tests). */
  releasePool(): void {
    this.free.clear();
    this.freeBytes = 0;
  }

  /** The float32 data of a tensor, in place (no copy) when it is stored as a Float32Array. */
  f32(t: TensorInfo): Float32Array {
    const v = this.data.get(t.dataId).values;
    if (v instanceof Float32Array) return v;
    return Float32Array.from(v as ArrayLike<number>);
  }

  /** The int32 data of a tensor, in place when stored as an Int32Array. */
  i32(t: TensorInfo): Int32Array {
    const v = this.data.get(t.dataId).values;
    if (v instanceof Int32Array) return v;
    return Int32Array.from(v as ArrayLike<number>);
  }
}

/** The active backend, when it is the native one. */
export function nativeBackend(): NativeBackend {
  const b = tf.backend();
  if (!(b instanceof NativeBackend)) throw new Error(`the active backend is ${tf.getBackend()}, not native`);
  return b;
}


interface MatMulPlan {
  batch: number;
  m: number;
  n: number;
  k: number;
  aRow: number;
  aCol: number;
  bRow: number;
  bCol: number;
  strideA: number;
  strideB: number;
  outShape: number[];
}

/** How to run a (batched, broadcast) matmul as strided GEMMs, or undefined when the shapes need tfjs's path. */
function planMatMul(aShape: number[], bShape: number[], transposeA: boolean, transposeB: boolean): MatMulPlan | undefined {
  if (aShape.length < 2 || bShape.length < 2) return undefined;
  const [ar, ac] = aShape.slice(-2);
  const [br, bc] = bShape.slice(-2);
  const m = transposeA ? ac : ar;
  const k = transposeA ? ar : ac;
  const kb = transposeB ? bc : br;
  const n = transposeB ? br : bc;
  if (k !== kb) return undefined; // tfjs's kernel reports the mismatch
  const outerA = aShape.slice(0, -2);
  const outerB = bShape.slice(0, -2);
  const batchA = outerA.reduce((x, y) => x * y, 1);
  const batchB = outerB.reduce((x, y) => x * y, 1);
  let outer: number[];
  try {
    outer = tf.backend_util.assertAndGetBroadcastShape(outerA, outerB);
  } catch {
    return undefined;
  }
  const batch = Math.max(batchA, batchB);
  if ((batchA !== batch && batchA !== 1) || (batchB !== batch && batchB !== 1)) return undefined;
  if (outer.reduce((x, y) => x * y, 1) !== batch) return undefined;
  return {
    batch,
    m,
    n,
    k,
    aRow: transposeA ? 1 : ac,
    aCol: transposeA ? ac : 1,
    bRow: transposeB ? 1 : bc,
    bCol: transposeB ? bc : 1,
    strideA: batchA === 1 ? 0 : ar * ac,
    strideB: batchB === 1 ? 0 : br * bc,
    outShape: [...outer, m, n],
  };
}

/** C = op(A)·op(B) (+ bias) for float32 a, b on the native backend; undefined when it cannot. */
function nativeMatMul(backend: NativeBackend, a: TensorInfo, b: TensorInfo, transposeA: boolean, transposeB: boolean,
  bias?: TensorInfo): TensorInfo | undefined {
  if (a.dtype !== 'float32' || b.dtype !== 'float32') return undefined;
  const p = planMatMul(a.shape, b.shape, transposeA, transposeB);
  if (!p) return undefined;
  let biasVals: Float32Array | null = null;
  if (bias) {
    if (bias.dtype !== 'float32' || tf.util.sizeFromShape(bias.shape) !== p.n || bias.shape[bias.shape.length - 1] !== p.n) {
      return undefined;
    }
    biasVals = backend.f32(bias);
  }
  const out = backend.take(p.batch * p.m * p.n);
  const av = backend.f32(a);
  const bv = backend.f32(b);
  if (p.batch > 1 && p.strideB === 0 && !transposeA && p.strideA !== 0) {
    // A batch of row-major A against one B is a single taller GEMM.
    backend.addon.gemm(av, p.aRow, p.aCol, bv, p.bRow, p.bCol, out, p.n, p.batch * p.m, p.n, p.k, 1, 0, biasVals, 1, 0, 0, 0, 0);
  } else {
    backend.addon.gemm(av, p.aRow, p.aCol, bv, p.bRow, p.bCol, out, p.n, p.m, p.n, p.k, 1, 0, biasVals,
      p.batch, p.strideA, p.strideB, p.m * p.n, 0);
  }
  return backend.makeTensorInfo(p.outShape, 'float32', out);
}

function batchMatMul(args: Parameters<KernelFunc>[0]): TensorInfo {
  const backend = args.backend as NativeBackend;
  const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
  const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean };
  return nativeMatMul(backend, a, b, !!transposeA, !!transposeB) ?? (cpuKernel('BatchMatMul')(args) as TensorInfo);
}

function fusedMatMul(args: Parameters<KernelFunc>[0]): TensorInfo {
  const backend = args.backend as NativeBackend;
  const { a, b, bias, preluActivationWeights } = args.inputs as Record<string, TensorInfo | undefined>;
  const { transposeA, transposeB, activation } = args.attrs as { transposeA: boolean; transposeB: boolean; activation?: string };
  const plain = (!activation || activation === 'linear') && !preluActivationWeights;
  const out = plain && a && b ? nativeMatMul(backend, a, b, !!transposeA, !!transposeB, bias) : undefined;
  return out ?? (cpuKernel('_FusedMatMul')(args) as TensorInfo);
}

const OVERRIDES: Record<string, KernelFunc> = {
  BatchMatMul: batchMatMul as KernelFunc,
  _FusedMatMul: fusedMatMul as KernelFunc,
  ...LAYOUT_KERNELS,
};

/** Registers the 'native' backend and its kernels (once). */
export function registerNativeBackend(addon: NativeAddon): void {
  if (tf.findBackendFactory(NATIVE_BACKEND)) return;
  tf.registerBackend(NATIVE_BACKEND, () => new NativeBackend(addon), 0);
  for (const k of tf.getKernelsForBackend('cpu')) {
    if (OVERRIDES[k.kernelName]) continue;
    tf.registerKernel({ ...k, backendName: NATIVE_BACKEND, kernelFunc: countedKernel(k.kernelName, k.kernelFunc) } as KernelConfig);
  }
  for (const [kernelName, kernelFunc] of Object.entries(OVERRIDES)) {
    tf.registerKernel({ kernelName, backendName: NATIVE_BACKEND, kernelFunc });
  }
}
