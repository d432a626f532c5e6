// Where the native backend runs TensorFlow.js's plain-JavaScript cpu kernels, which walk tensors element by
// element: every kernel the native backend has no C++ version of, and the rare shapes its C++ kernels hand
// back to the cpu ones. A census (startKernelCensus … stopKernelCensus) counts them with the size of what each
// produced, so a test can check that a training or generation step does no element-wise work in JavaScript.
import * as tf from '@tensorflow/tfjs-core';
import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';

/** One JavaScript kernel seen by the census. */
export interface JsKernelUse {
  kernel: string;
  calls: number;
  /** Elements of its largest input or output; 0 when every call only relabelled or viewed its input's buffer. */
  largest: number;
}

/** Kernels that only give a buffer a new shape or name (no element is read or written). */
const RELABEL = new Set(['Reshape', 'Identity']);

let census: Map<string, JsKernelUse> | undefined;

type Args = Parameters<KernelFunc>[0];

function note(kernel: string, args: Args, out: TensorInfo | TensorInfo[], zeroCopy: boolean): void {
  if (!census) return;
  const use = census.get(kernel) ?? { kernel, calls: 0, largest: 0 };
  use.calls++;
  if (!zeroCopy && !RELABEL.has(kernel)) {
    const inputs = Object.values(args.inputs ?? {}).filter((t): t is TensorInfo => !!t && Array.isArray((t as TensorInfo).shape));
    for (const t of [...inputs, ...(Array.isArray(out) ? out : [out])]) use.largest = Math.max(use.largest, tf.util.sizeFromShape(t.shape));
  }
  census.set(kernel, use);
}

/**
 * TensorFlow.js's cpu kernel `name`, counted by the census. `zeroCopy`: this call only makes a view of its
 * input (a contiguous slice), so it counts as touching no element.
 */
export function cpuKernel(name: string, zeroCopy = false): KernelFunc {
  const k = tf.getKernel(name, 'cpu');
  if (!k) throw new Error(`tfjs-backend-cpu has no ${name} kernel`);
  return (args) => {
    const out = k.kernelFunc(args) as TensorInfo | TensorInfo[];
    note(name, args, out, zeroCopy);
    return out;
  };
}

/** A cpu kernel registered as is for the native backend, counted by the census. */
export function countedKernel(name: string, kernelFunc: KernelFunc): KernelFunc {
  return (args) => {
    const out = kernelFunc(args) as TensorInfo | TensorInfo[];
    note(name, args, out, false);
    return out;
  };
}

/** Starts counting JavaScript kernel calls on the native backend (from zero). */
export function startKernelCensus(): void {
  census = new Map();
}

/** Stops counting; the JavaScript kernels that ran since startKernelCensus, busiest first. */
export function stopKernelCensus(): JsKernelUse[] {
  const uses = [...(census?.values() ?? [])].sort((a, b) => b.largest - a.largest || b.calls - a.calls);
  census = undefined;
  return uses;
}
