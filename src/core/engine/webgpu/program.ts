// Runs one of LLM Lab's WGSL kernels through TensorFlow.js's WebGPU backend, so its inputs and output are that
// backend's GPU buffers and nothing is read back. A kernel is WGSL for `fn main(index : i32)`, run once per
// thread; TensorFlow.js adds the bindings: each input as a read-only array named as in `inputs`, the output as
// `result`, and our scalars as fields of `uniforms`.
import { tf } from '../tf';

/** A scalar a kernel reads from `uniforms.<name>`. */
export type Uniform = [name: string, type: 'i32' | 'f32', value: number];

/** The program object TensorFlow.js's WebGPU backend compiles and dispatches (see its webgpu_program.ts). */
interface Program {
  variableNames: string[];
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number];
  uniforms?: string;
  getUserCode(): string;
}

interface WebgpuBackend {
  runWebGPUProgram(
    program: Program,
    inputs: tf.TensorInfo[],
    dtype: tf.DataType,
    uniforms?: { type: 'int32' | 'float32'; data: number[] }[],
  ): tf.TensorInfo;
}

export interface KernelCall {
  /** Names the WGSL (TensorFlow.js caches one pipeline per name and input ranks). */
  name: string;
  /** The WGSL defining `fn main(index : i32)`. */
  code: string;
  /** Inputs by the name the WGSL uses for them. */
  inputs: Record<string, tf.Tensor>;
  outShape: number[];
  /** Threads to run (main gets index 0 .. threads-1; more may run, so kernels check the bound). */
  threads: number;
  uniforms?: Uniform[];
  dtype?: 'float32' | 'int32';
  /** Threads per workgroup (default 64). */
  workgroup?: number;
}

/** Runs a kernel on the active WebGPU backend and returns its output as a new tensor. */
export function runKernel(k: KernelCall): tf.Tensor {
  const names = Object.keys(k.inputs);
  const wg = k.workgroup ?? 64;
  const uniforms = k.uniforms ?? [];
  const program: Program = {
    variableNames: names,
    outputShape: k.outShape,
    shaderKey: `llmlab_${k.name}`,
    dispatchLayout: { x: k.outShape.map((_, i) => i) },
    dispatch: [Math.max(1, Math.ceil(k.threads / wg)), 1, 1],
    workgroupSize: [wg, 1, 1],
    getUserCode: () => k.code,
  };
  if (uniforms.length) program.uniforms = uniforms.map(([n, t]) => `${n} : ${t},`).join(' ');
  const backend = tf.backend() as unknown as WebgpuBackend;
  const info = backend.runWebGPUProgram(
    program,
    names.map((n) => k.inputs[n]),
    k.dtype ?? 'float32',
    uniforms.map(([, t, v]) => ({ type: t === 'i32' ? 'int32' : 'float32', data: [v] })),
  );
  return tf.engine().makeTensorFromTensorInfo(info);
}
