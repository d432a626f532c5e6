// The 'native' TensorFlow.js backend: tfjs-backend-cpu's MathBackendCPU (tensor data stay plain JS typed
// arrays) with every cpu kernel registered under 'native' too, and the heavy ones (BatchMatMul,
// _FusedMatMul, same-shape Add) replaced by calls into the C++ addon, which works on the arrays in place.
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import type { NativeAddon } from './addon';

export const NATIVE_BACKEND = 'native';

export class NativeBackend extends MathBackendCPU {
  constructor(readonly addon: NativeAddon) {
    super();
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

function cpuKernel(name: string): KernelFunc {
  const k = tf.getKernel(name, 'cpu');
  if (!k) throw new Error(`tfjs-backend-cpu has no ${name} kernel`);
  return k.kernelFunc;
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
  const out = new Float32Array(p.batch * p.m * p.n);
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

/** Same-shape float32 addition in one pass (the tape sums gradients with it); others go to the cpu kernel. */
function add(args: Parameters<KernelFunc>[0]): TensorInfo {
  const backend = args.backend as NativeBackend;
  const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
  const size = tf.util.sizeFromShape(a.shape);
  if (a.dtype === 'float32' && b.dtype === 'float32' && size >= 4096 && tf.util.arraysEqual(a.shape, b.shape)) {
    const out = new Float32Array(backend.f32(a));
    const bv = backend.f32(b);
    for (let i = 0; i < size; i++) out[i] += bv[i];
    return backend.makeTensorInfo(a.shape, 'float32', out);
  }
  return cpuKernel('Add')(args) as TensorInfo;
}

const OVERRIDES: Record<string, KernelFunc> = {
  BatchMatMul: batchMatMul as KernelFunc,
  _FusedMatMul: fusedMatMul as KernelFunc,
  Add: add as KernelFunc,
};

/** Registers the 'native' backend and its kernels (once). */
export function registerNativeBackend(addon: NativeAddon): void {
  if (tf.findBackendFactory(NATIVE_BACKEND)) return;
  tf.registerBackend(NATIVE_BACKEND, () => new NativeBackend(addon), 0);
  for (const k of tf.getKernelsForBackend('cpu')) {
    if (OVERRIDES[k.kernelName]) continue;
    tf.registerKernel({ ...k, backendName: NATIVE_BACKEND } as KernelConfig);
  }
  for (const [kernelName, kernelFunc] of Object.entries(OVERRIDES)) {
    tf.registerKernel({ kernelName, backendName: NATIVE_BACKEND, kernelFunc });
  }
}
