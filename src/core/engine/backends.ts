// How each compute backend is started, and why one could not be: TensorFlow's C library through
// @tensorflow/tfjs-node(-gpu) (optional packages, required at run time), WebGPU, our C++ kernels (src/core/engine/native,
// built by `npm run build:native`), XNNPACK on WebAssembly, and plain JavaScript. Each starter resolves with
// what runs or throws an Error whose message is the reason a user reads in `llm-lab info`. WebGPU (Dawn) is
// started by src/core/engine/webgpu.
import { tf } from './tf';
import { startWasm } from './wasm/loader';

/** What a started backend reports: one line about it, and how many threads its kernels use. */
export interface Started {
  detail: string;
  threads: number;
}

/** A module loader, injectable so tests can play a missing or broken install. */
export type RequireFn = (id: string) => unknown;

const nodeRequire: RequireFn = require;

export const TFJS_NODE_PACKAGES = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'] as const;

const MIRROR_HINT = 'offline: set TFJS_NODE_CDN_STORAGE/TFJS_NODE_BASE_URI to a mirror';

function firstLine(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.split('\n')[0].trim();
}

/**
 * Why `pkg` (tfjs-node or tfjs-node-gpu) failed to load, from the error its require threw: not installed,
 * installed without its native binding, CUDA or libtensorflow libraries missing, a C library or Node.js
 * version mismatch, or else the error's first line.
 */
export function tensorflowLoadReason(pkg: string, e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  const code = (e as { code?: unknown } | undefined)?.code;
  const line = firstLine(e);
  const missingModule = /Cannot find module '([^']+)'/.exec(msg)?.[1];
  if (code === 'MODULE_NOT_FOUND' && missingModule === pkg) {
    return `not installed (npm install ${pkg}; ${MIRROR_HINT})`;
  }
  if (missingModule?.endsWith('.node') || /tfjs_binding/.test(msg)) {
    return (
      `installed, but its native binding is missing: the install could not download libtensorflow ` +
      `(run npm rebuild ${pkg} with network access; ${MIRROR_HINT})`
    );
  }
  const cuda = /(lib(?:cudart|cublas|cublasLt|cufft|curand|cusolver|cusparse|cudnn|nvinfer)[\w.-]*\.so[\w.]*)/.exec(msg);
  if (cuda) {
    return `CUDA libraries not found: ${cuda[1]} (${line}); install the CUDA and cuDNN versions tfjs-node-gpu needs, or use @tensorflow/tfjs-node`;
  }
  const libtf = /(libtensorflow[\w.-]*\.so[\w.]*)/.exec(msg);
  if (libtf) return `libtensorflow not found: ${libtf[1]} (${line}); run npm rebuild ${pkg}`;
  const glibc = /(GLIBC(?:XX)?_[\d.]+)' not found/.exec(msg);
  if (glibc) return `this system's C library is too old: ${glibc[1]} not found (${line})`;
  if (/NODE_MODULE_VERSION/.test(msg)) return `built for another Node.js version (${line}); run npm rebuild ${pkg}`;
  if (missingModule) return `a module it needs is missing: ${missingModule} (reinstall ${pkg})`;
  return `failed to load: ${line}`;
}

/**
 * Starts TensorFlow's C library backend: tfjs-node-gpu first, then tfjs-node. Throws with the reason for
 * each ("…-gpu: not installed (…); …-node: CUDA libraries not found: …").
 */
export async function startTensorflow(req: RequireFn = nodeRequire): Promise<Started> {
  const reasons: string[] = [];
  for (const pkg of TFJS_NODE_PACKAGES) {
    let mod: unknown;
    try {
      mod = req(pkg);
    } catch (e) {
      reasons.push(`${pkg}: ${tensorflowLoadReason(pkg, e)}`);
      continue;
    }
    if (!tf.findBackendFactory('tensorflow')) {
      reasons.push(
        `${pkg}: loaded, but it registered no 'tensorflow' backend with this copy of @tensorflow/tfjs-core ` +
          `(${tf.version_core}); install the ${pkg} version that matches it`,
      );
      continue;
    }
    try {
      if (!(await tf.setBackend('tensorflow'))) throw new Error('TensorFlow.js could not start it');
    } catch (e) {
      reasons.push(`${pkg}: ${tensorflowLoadReason(pkg, e)}`);
      continue;
    }
    const version = (mod as { version?: Record<string, string> } | undefined)?.version?.['tfjs-node'];
    const gpu = pkg.endsWith('-gpu');
    return {
      detail: `TensorFlow C library via ${pkg}${version ? ` ${version}` : ''}${gpu ? ' (CUDA)' : ' (CPU)'}`,
      threads: 0,
    };
  }
  throw new Error(reasons.join('; '));
}

/** The seam to the native kernels (src/core/engine/native, another branch builds it). */
interface NativeModule {
  loadNativeBackend(): Promise<Started>;
}

function requireNative(): unknown {
  try {
    // A literal require inside try: esbuild bundles ./native when it exists and leaves it to fail when not.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('./native');
  } catch (e) {
    throw e;
  }
}

/** Starts the C++ kernels; a missing module (branch not merged, addon not built) is "not built". */
export async function startNative(load: () => unknown = requireNative): Promise<Started> {
  let mod: NativeModule;
  try {
    mod = load() as NativeModule;
  } catch (e) {
    const missing = /Cannot find module '([^']+)'/.exec(e instanceof Error ? e.message : '')?.[1];
    if (missing === './native') throw new Error('not built: run npm run build:native');
    throw new Error(`could not load: ${firstLine(e)}`);
  }
  const started = await mod.loadNativeBackend();
  if (!(await tf.setBackend('native'))) throw new Error('TensorFlow.js could not start the native backend');
  return started;
}

/** The seam to the WebGPU backend (src/core/engine/webgpu), loaded only when it is tried. */
interface WebgpuModule {
  loadWebgpuBackend(): Promise<Started & { software: boolean }>;
}

function requireWebgpu(): unknown {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('./webgpu');
}

/**
 * Starts TensorFlow.js's WebGPU backend on Dawn: a hardware adapter, or SwiftShader when LLM_LAB_WEBGPU_SOFTWARE=1
 * and the backend is asked for by name (`auto` never takes a software adapter). Throws with why not (package
 * missing, no Vulkan loader, no adapter, only a software adapter).
 */
export async function startWebgpu(load: () => unknown = requireWebgpu, named = false): Promise<Started> {
  const mod = load() as WebgpuModule;
  const started = await mod.loadWebgpuBackend();
  if (started.software && !named) {
    throw new Error(`only a software adapter (${started.detail}); auto does not take it, --backend webgpu does`);
  }
  if (!(await tf.setBackend('webgpu'))) throw new Error('TensorFlow.js could not start the webgpu backend');
  return { detail: started.detail, threads: started.threads };
}

/** Starts XNNPACK on WebAssembly, with as many threads as asked (default: every core, see defaultThreads). */
export async function startWasmBackend(threads?: number): Promise<Started> {
  const w = await startWasm(threads);
  if (!(await tf.setBackend('wasm'))) throw new Error('TensorFlow.js could not start the wasm backend');
  return { detail: w.detail, threads: w.threads };
}

/** The plain-JavaScript kernels: always there, and slow (~0.5 GFLOP/s); for tests and tiny models. */
export async function startCpu(): Promise<Started> {
  if (!(await tf.setBackend('cpu'))) throw new Error('TensorFlow.js refused the cpu backend');
  return { detail: 'plain JavaScript kernels, 1 thread (slow: for tests and tiny models)', threads: 1 };
}
