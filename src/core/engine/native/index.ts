// Entry of LLM Lab's native CPU backend: loads the C++ addon, registers the 'native' TensorFlow.js backend
// (tfjs-backend-cpu's kernels plus native matmul), the native fused model ops and the native normal sampler. The engine's initEngine
// calls loadNativeBackend() for 'native'; it throws an Error saying why when the addon is unavailable or
// this CPU cannot run it (checked by the probe of cpu.ts before the kernels are loaded).
import { useNormalFill } from '../../rng';
import { registerFusedOps } from '../fused';
import { registerFusedForward } from '../fusedForward';
import { loadAddon } from './addon';
import { registerNativeBackend } from './backend';
import type { CpuFeatures } from './cpu';
import { describeCpu, nativeCpuRefusal, probeCpu } from './cpu';
import { nativeCausalAttention } from './fusedAttention';
import { nativeDropout, nativeEmbedding, nativeGelu, nativeLayerNorm, nativeLinear, nativeLmLogits } from './fusedLayers';
import { nativeGptForward } from './fusedForward';
import { nativeAdamw, nativeCrossEntropy } from './fusedTraining';

export { NATIVE_BACKEND } from './backend';
export type { CpuFeatures } from './cpu';

export interface NativeLoadOptions {
  /** The CPU's features; default: asked of the probe addon. Tests pass a CPU without AVX2. */
  cpu?: CpuFeatures;
}

/**
 * Makes the 'native' backend available (tf.setBackend('native') then selects it). Resolves with a line
 * describing it and its thread count; rejects with why it cannot run here, the CPU check first: on a CPU
 * without the kernels' instructions the addon is never loaded.
 */
export async function loadNativeBackend(opts: NativeLoadOptions = {}): Promise<{ detail: string; threads: number }> {
  const cpu = opts.cpu ?? probeCpu();
  const refusal = nativeCpuRefusal(cpu);
  if (refusal) throw new Error(refusal);
  const addon = loadAddon();
  const info = addon.info();
  registerNativeBackend(addon);
  // Seeded initial weights: the same values as the JavaScript ziggurat, drawn in C++.
  useNormalFill((state, out, std, t) => addon.fillNormal(state, out, out.length, std, t.k, t.w, t.f));
  registerFusedOps('native', {
    linear: nativeLinear,
    lmLogits: nativeLmLogits,
    embedding: nativeEmbedding,
    layerNorm: nativeLayerNorm,
    gelu: nativeGelu,
    dropout: nativeDropout,
    causalAttention: nativeCausalAttention,
    crossEntropy: nativeCrossEntropy,
    adamw: nativeAdamw,
  });
  registerFusedForward('native', nativeGptForward);
  return {
    detail: `C++ kernels (${info.simd}; CPU checked: ${describeCpu(cpu)}), ${info.threads} thread${info.threads === 1 ? '' : 's'}`,
    threads: info.threads,
  };
}
