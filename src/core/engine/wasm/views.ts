// Zero-copy access to a tensor's numbers on the wasm and cpu backends, for the few fused-op steps that are
// plain loops (scatter-add of embedding gradients, picking target probabilities, the softmax − one-hot fix-up).
// A view is valid only until the next TensorFlow.js call that may allocate (wasm memory can grow and move), so
// callers allocate first, then take views, then loop. Writing through a view is allowed only on a tensor the
// caller created and has not shared.
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { tf } from '../tf';

type Numbers = Float32Array | Int32Array | Uint8Array;

/** Whether the active backend lets us see tensor memory directly (wasm heap or cpu arrays). */
export function hasDirectViews(): boolean {
  const name = tf.getBackend();
  return name === 'wasm' || name === 'cpu';
}

function wasmView(backend: BackendWasm, t: tf.Tensor): Numbers {
  const { memoryOffset } = backend.dataIdMap.get(t.dataId) as { memoryOffset: number };
  // The threaded module keeps its memory object current even when a worker grew it; prefer it over HEAPU8.
  const module = backend.wasm as unknown as { wasmMemory?: { buffer: ArrayBufferLike }; HEAPU8: Uint8Array };
  const buffer = module.wasmMemory ? module.wasmMemory.buffer : module.HEAPU8.buffer;
  const n = t.size;
  switch (t.dtype) {
    case 'float32':
      return new Float32Array(buffer, memoryOffset, n);
    case 'int32':
      return new Int32Array(buffer, memoryOffset, n);
    case 'bool':
      return new Uint8Array(buffer, memoryOffset, n);
    default:
      throw new Error(`no direct view of a ${t.dtype} tensor`);
  }
}

/** The tensor's numbers without a copy (wasm, cpu); see the module comment for how long it stays valid. */
export function directView(t: tf.Tensor): Numbers {
  const name = tf.getBackend();
  if (name === 'wasm') return wasmView(tf.backend() as unknown as BackendWasm, t);
  if (name === 'cpu') {
    const store = (tf.backend() as unknown as { data: { get(id: object): { values?: Numbers } } }).data;
    const values = store.get(t.dataId).values;
    if (!values) throw new Error('cpu tensor has no values');
    return values;
  }
  throw new Error(`no direct view of tensors on the ${name} backend`);
}

/** Float32 view, for float32 tensors only. */
export function floatView(t: tf.Tensor): Float32Array {
  if (t.dtype !== 'float32') throw new Error(`expected a float32 tensor, got ${t.dtype}`);
  return directView(t) as Float32Array;
}

/** Integer ids of a small int32 (or float) tensor as a plain copy: safe to keep across tf calls. */
export function idsCopy(t: tf.Tensor): Int32Array {
  const data = t.dataSync();
  return data instanceof Int32Array ? data.slice() : Int32Array.from(data as ArrayLike<number>);
}
