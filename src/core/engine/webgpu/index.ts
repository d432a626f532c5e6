// Entry of the WebGPU backend: starts TensorFlow.js's WebGPU backend on Dawn (loader.ts) and registers our WGSL
// versions of the model ops for it. The engine's initEngine calls loadWebgpuBackend() for 'webgpu'; it throws an
// Error saying why when there is no usable GPU (package missing, no Vulkan loader, no adapter, only a software one).
import { registerFusedOps } from '../fused';
import { webgpuCausalAttention } from './fusedAttention';
import { webgpuEmbedding, webgpuGelu, webgpuLayerNorm, webgpuLinear } from './fusedLayers';
import { webgpuAdamw, webgpuCrossEntropy } from './fusedTraining';
import type { WebgpuDeps } from './loader';
import { defaultDeps, startWebgpuBackend } from './loader';

/** What a start reports; `software` when the adapter is SwiftShader or another CPU implementation. */
export interface WebgpuStarted {
  detail: string;
  threads: number;
  software: boolean;
}

let started: WebgpuStarted | undefined;

/** Makes the 'webgpu' backend available once (later calls return the first start's description). */
export async function loadWebgpuBackend(deps: WebgpuDeps = defaultDeps()): Promise<WebgpuStarted> {
  if (started) return started;
  const s = await startWebgpuBackend(deps);
  registerFusedOps('webgpu', {
    linear: webgpuLinear,
    embedding: webgpuEmbedding,
    layerNorm: webgpuLayerNorm,
    gelu: webgpuGelu,
    causalAttention: webgpuCausalAttention,
    crossEntropy: webgpuCrossEntropy,
    adamw: webgpuAdamw,
  });
  started = { detail: s.detail, threads: 0, software: s.adapter.isFallbackAdapter === true };
  return started;
}
