// Native versions of tfjs-backend-cpu kernels that move data (Slice, SplitV, Transpose, Concat, PadV2), add or
// multiply with broadcasting (Add, Multiply, Square) or sum over leading axes (Sum). The cpu ones index element by element in
// JavaScript, which dominated a training step; these are one strided copy or one pass in C++, or whole-row
// copies with TypedArray.set (a memcpy). Anything unusual goes to the cpu kernel.
import * as tf from '@tensorflow/tfjs-core';
import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import type { NativeBackend } from './backend';
import { cpuKernel } from './jsKernels';

type Args = Parameters<KernelFunc>[0];

/** Element-wise kernels on fewer elements than this stay in JavaScript (a call into C++ costs about as much). */
const NATIVE_MIN = 256;


/** Float32Array or Int32Array data of a 32-bit tensor, or undefined for other dtypes. */
function words(backend: NativeBackend, t: TensorInfo): Float32Array | Int32Array | undefined {
  const v = backend.data.get(t.dataId).values;
  if (t.dtype === 'float32' && v instanceof Float32Array) return v;
  if (t.dtype === 'int32' && v instanceof Int32Array) return v;
  return undefined;
}

function alloc(backend: NativeBackend, dtype: string, n: number): Float32Array | Int32Array {
  return dtype === 'int32' ? new Int32Array(n) : backend.take(n);
}

/** A strided slice; contiguous ones stay zero-copy views through the cpu kernel. */
function sliceInfo(backend: NativeBackend, x: TensorInfo, begin: number[], size: number[]): TensorInfo | undefined {
  const src = words(backend, x);
  if (!src || tf.slice_util.isSliceContinous(x.shape, begin, size)) return undefined;
  const strides = tf.util.computeStrides(x.shape).concat([1]);
  const offset = begin.reduce((acc, b, d) => acc + b * strides[d], 0);
  const out = alloc(backend, x.dtype, tf.util.sizeFromShape(size));
  backend.addon.stridedCopy(src, out, size, strides.slice(0, size.length), offset);
  return backend.makeTensorInfo(size, x.dtype, out);
}

function slice(args: Args): TensorInfo {
  const backend = args.backend as NativeBackend;
  const { x } = args.inputs as { x: TensorInfo };
  const { begin, size } = args.attrs as unknown as { begin: number | number[]; size: number | number[] };
  const [b, s] = tf.slice_util.parseSliceParams(x as tf.Tensor, begin, size);
  tf.slice_util.assertParamsValid(x as tf.Tensor, b, s);
  const contiguous = tf.slice_util.isSliceContinous(x.shape, b, s);
  return sliceInfo(backend, x, b, s) ?? (cpuKernel('Slice', contiguous && words(backend, x) !== undefined)(args) as TensorInfo);
}

function splitV(args: Args): TensorInfo[] {
  const backend = args.backend as NativeBackend;
  const { x } = args.inputs as { x: TensorInfo };
  const { numOrSizeSplits, axis } = args.attrs as unknown as { numOrSizeSplits: number | number[]; axis: number };
  const ax = tf.util.parseAxisParam(axis, x.shape)[0];
  const sizes = tf.backend_util.prepareSplitSize(x as tf.Tensor, numOrSizeSplits, ax);
  const begin = new Array<number>(x.shape.length).fill(0);
  return sizes.map((s) => {
    const size = x.shape.slice();
    size[ax] = s;
    const part =
      sliceInfo(backend, x, begin.slice(), size) ??
      (cpuKernel('Slice', tf.slice_util.isSliceContinous(x.shape, begin, size))({ inputs: { x }, backend, attrs: { begin: begin.slice(), size } }) as TensorInfo);
    begin[ax] += s;
    return part;
  });
}

function transpose(args: Args): TensorInfo {
  const backend = args.backend as NativeBackend;
  const { x } = args.inputs as { x: TensorInfo };
  const { perm } = args.attrs as unknown as { perm: number[] };
  const src = words(backend, x);
  if (!src || x.shape.length > 8) return cpuKernel('Transpose')(args) as TensorInfo;
  const inStrides = tf.util.computeStrides(x.shape).concat([1]);
  const shape = perm.map((p) => x.shape[p]);
  const out = alloc(backend, x.dtype, tf.util.sizeFromShape(shape));
  backend.addon.stridedCopy(src, out, shape, perm.map((p) => inStrides[p]), 0);
  return backend.makeTensorInfo(shape, x.dtype, out);
}

/** b's shape without leading 1s is a suffix of a's shape (so b repeats along a's leading dims). */
function repeatsInto(big: number[], small: number[]): boolean {
  let i = 0;
  while (i < small.length && small[i] === 1) i++;
  const core = small.slice(i);
  return core.length <= big.length && core.every((d, j) => d === big[big.length - core.length + j]);
}

/**
 * a + b or a · b in C++ when one operand repeats into the other along its leading axes (same shape, a row
 * vector, a scalar); undefined for other shapes, dtypes and small tensors.
 */
function repeatBinary(backend: NativeBackend, a: TensorInfo, b: TensorInfo, op: 'addRepeat' | 'mulRepeat'): TensorInfo | undefined {
  if (a.dtype !== 'float32' || b.dtype !== 'float32') return undefined;
  const na = tf.util.sizeFromShape(a.shape);
  const nb = tf.util.sizeFromShape(b.shape);
  const [big, small] = na >= nb ? [a, b] : [b, a];
  const outShape = tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
  const n = Math.max(na, nb);
  if (n < NATIVE_MIN || Math.min(na, nb) === 0 || tf.util.sizeFromShape(outShape) !== n || !repeatsInto(big.shape, small.shape)) return undefined;
  const out = backend.take(n);
  backend.addon[op](backend.f32(big), n, backend.f32(small), Math.min(na, nb), out);
  return backend.makeTensorInfo(outShape, 'float32', out);
}

function add(args: Args): TensorInfo {
  const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
  return repeatBinary(args.backend as NativeBackend, a, b, 'addRepeat') ?? (cpuKernel('Add')(args) as TensorInfo);
}

/** a · b (both orders commute, so the repeating operand may be either). */
function multiply(args: Args): TensorInfo {
  const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
  return repeatBinary(args.backend as NativeBackend, a, b, 'mulRepeat') ?? (cpuKernel('Multiply')(args) as TensorInfo);
}

/** x² as x · x. */
function square(args: Args): TensorInfo {
  const backend = args.backend as NativeBackend;
  const { x } = args.inputs as { x: TensorInfo };
  const n = tf.util.sizeFromShape(x.shape);
  if (x.dtype !== 'float32' || n < NATIVE_MIN) return cpuKernel('Square')(args) as TensorInfo;
  const out = backend.take(n);
  const xv = backend.f32(x);
  backend.addon.mulRepeat(xv, n, xv, n, out);
  return backend.makeTensorInfo(x.shape, 'float32', out);
}

/** Rows of `x` (its last dim) copied into `out` (of shape `outShape`) with x's origin at `start`. */
function copyRows(src: Float32Array | Int32Array, shape: number[], out: Float32Array | Int32Array, outShape: number[], start: number[]): void {
  const rank = shape.length;
  const inner = shape[rank - 1];
  const rows = tf.util.sizeFromShape(shape) / Math.max(inner, 1);
  const outStrides = tf.util.computeStrides(outShape).concat([1]);
  const idx = new Array<number>(Math.max(rank - 1, 0)).fill(0);
  for (let r = 0; r < rows; r++) {
    let at = start[rank - 1];
    for (let d = 0; d < rank - 1; d++) at += (idx[d] + start[d]) * outStrides[d];
    out.set(src.subarray(r * inner, (r + 1) * inner), at);
    for (let d = rank - 2; d >= 0; d--) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
}

function concat(args: Args): TensorInfo {
  const backend = args.backend as NativeBackend;
  const inputs = args.inputs as unknown as TensorInfo[];
  const { axis } = args.attrs as unknown as { axis: number };
  const first = inputs[0];
  const srcs = inputs.map((t) => words(backend, t));
  if (!first || first.shape.length === 0 || srcs.some((v, i) => !v || inputs[i].dtype !== first.dtype)) {
    return cpuKernel('Concat')(args) as TensorInfo;
  }
  const ax = tf.util.parseAxisParam(axis, first.shape)[0];
  const outShape = tf.backend_util.computeOutShape(inputs.map((t) => t.shape), ax);
  const out = alloc(backend, first.dtype, tf.util.sizeFromShape(outShape));
  const start = new Array<number>(outShape.length).fill(0);
  inputs.forEach((t, i) => {
    if (tf.util.sizeFromShape(t.shape) > 0) copyRows(srcs[i]!, t.shape, out, outShape, start);
    start[ax] += t.shape[ax];
  });
  return backend.makeTensorInfo(outShape, first.dtype, out);
}

function padV2(args: Args): TensorInfo {
  const backend = args.backend as NativeBackend;
  const { x } = args.inputs as { x: TensorInfo };
  const { paddings, constantValue } = args.attrs as unknown as { paddings: Array<[number, number]>; constantValue: number };
  const src = words(backend, x);
  if (!src || x.shape.length === 0) return cpuKernel('PadV2')(args) as TensorInfo;
  const outShape = x.shape.map((d, i) => paddings[i][0] + d + paddings[i][1]);
  const out = alloc(backend, x.dtype, tf.util.sizeFromShape(outShape));
  out.fill(constantValue);
  if (tf.util.sizeFromShape(x.shape) > 0) copyRows(src, x.shape, out, outShape, paddings.map((p) => p[0]));
  return backend.makeTensorInfo(outShape, x.dtype, out);
}

/** Sum over the leading axes (a bias or position-embedding gradient) in C++; other reductions on the cpu kernel. */
function sum(args: Args): TensorInfo {
  const backend = args.backend as NativeBackend;
  const { x } = args.inputs as { x: TensorInfo };
  const { axis, keepDims } = args.attrs as unknown as { axis: number | number[]; keepDims: boolean };
  const axes = tf.util.parseAxisParam(axis, x.shape).sort((p, q) => p - q);
  const leading = axes.every((a, i) => a === i);
  if (x.dtype !== 'float32' || !leading || axes.length === 0) return cpuKernel('Sum')(args) as TensorInfo;
  const n = tf.util.sizeFromShape(x.shape.slice(0, axes.length));
  const kept = x.shape.slice(axes.length);
  const c = tf.util.sizeFromShape(kept);
  const out = backend.take(c);
  if (n === 0) out.fill(0);
  else backend.addon.columnSums(backend.f32(x), n, c, out);
  const outShape = keepDims ? x.shape.map((d, i) => (i < axes.length ? 1 : d)) : kept;
  return backend.makeTensorInfo(outShape, 'float32', out);
}

/** Index of the largest value along the last axis (a row of logits), in C++; other axes on the cpu kernel. */
function argMax(args: Args): TensorInfo {
  const backend = args.backend as NativeBackend;
  const { x } = args.inputs as { x: TensorInfo };
  const { axis } = args.attrs as unknown as { axis: number | number[] };
  const axes = tf.util.parseAxisParam(axis, x.shape);
  const cols = x.shape[x.shape.length - 1] ?? 0;
  if (x.dtype !== 'float32' || axes.length !== 1 || axes[0] !== x.shape.length - 1 || cols === 0) {
    return cpuKernel('ArgMax')(args) as TensorInfo;
  }
  const rows = tf.util.sizeFromShape(x.shape) / cols;
  const out = new Int32Array(rows);
  backend.addon.argMaxRows(backend.f32(x), rows, cols, out);
  return backend.makeTensorInfo(x.shape.slice(0, -1), 'int32', out);
}

/** Kernel overrides for data movement and addition, by tfjs kernel name. */
export const LAYOUT_KERNELS: Record<string, KernelFunc> = {
  Slice: slice as KernelFunc,
  SplitV: splitV as unknown as KernelFunc,
  Transpose: transpose as KernelFunc,
  Add: add as KernelFunc,
  Multiply: multiply as KernelFunc,
  Square: square as KernelFunc,
  ArgMax: argMax as KernelFunc,
  Concat: concat as unknown as KernelFunc,
  PadV2: padV2 as KernelFunc,
  Sum: sum as KernelFunc,
};
