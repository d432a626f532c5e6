// Starts TensorFlow.js's WebGPU backend on Dawn (the `webgpu` npm package's prebuilt dawn.node), in Node.
// Both packages are optional dependencies. The GPU is reached through Vulkan on Linux, Metal on macOS and
// D3D12 on Windows. A software adapter (SwiftShader, Mesa's lavapipe) is refused unless LLM_LAB_WEBGPU_SOFTWARE=1
// asks for it: it is correct but far slower than the CPU backends. On Linux that variable also points Vulkan at
// the SwiftShader that Debian's chromium package ships, so tests run the backend on machines without a GPU.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tf } from '../tf';

export const WEBGPU_PACKAGES = ['@tensorflow/tfjs-backend-webgpu', 'webgpu'] as const;

/** Where Debian's chromium package keeps its Vulkan loader and SwiftShader. */
export const CHROMIUM_DIR = '/usr/lib/chromium';

/** dlopen flags: RTLD_NOW | RTLD_GLOBAL | RTLD_NODELETE (Linux values; Node names only the first two). */
const DLOPEN_KEEP = 2 | 256 | 4096;

/** The parts of Dawn's node module used here. */
export interface DawnModule {
  create(flags: string[]): { requestAdapter(opts?: object): Promise<GpuAdapter | null> };
  globals: Record<string, unknown>;
}

export interface GpuAdapterInfo {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
  isFallbackAdapter?: boolean;
}

export interface GpuAdapter {
  info: GpuAdapterInfo;
  features: Set<string>;
  limits: Record<string, number>;
  requestDevice(desc?: object): Promise<unknown>;
}

/** What the start needs from the outside world; tests replace parts of it to play a missing or odd install. */
export interface WebgpuDeps {
  /** Loads @tensorflow/tfjs-backend-webgpu. */
  require(id: string): unknown;
  /** Loads dawn.node, or throws why not. */
  loadDawn(): DawnModule;
  /** Whether a Vulkan loader can be opened (Linux only; undefined elsewhere): undefined when it can, else why not. */
  vulkanMissing(): string | undefined;
  /** Whether to accept a software adapter (LLM_LAB_WEBGPU_SOFTWARE=1). */
  software: boolean;
}

export interface WebgpuStart {
  detail: string;
  adapter: GpuAdapterInfo;
}

const nodeRequire: NodeJS.Require = require;

/** Whether this module registered the 'webgpu' backend (it does once per process). */
let registered = false;

function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0].trim();
}

/** dawn.node for this platform: beside the bundle (a packaged extension) or inside the webgpu package. */
export function dawnCandidates(): string[] {
  const platformDir = `${process.platform}-${process.platform === 'darwin' ? 'universal' : process.arch}`;
  const out = [path.join(__dirname, 'dawn.node')];
  try {
    out.push(path.join(path.dirname(nodeRequire.resolve('webgpu/package.json')), 'dist', platformDir, 'dawn.node'));
  } catch {
    // the package is not installed: only the bundled copy can serve
  }
  return out;
}

function loadDawn(): DawnModule {
  const file = dawnCandidates().find((f) => fs.existsSync(f));
  if (!file) {
    throw new Error(`not installed: no Dawn binary for ${process.platform}-${process.arch} (npm install webgpu, an optional dependency)`);
  }
  return nodeRequire(file) as DawnModule;
}

/** Opens a shared library and keeps it loaded; undefined when it opened, else the loader's message. */
function openLibrary(file: string): string | undefined {
  try {
    process.dlopen({ exports: {} } as NodeJS.Module, file, DLOPEN_KEEP);
    return undefined;
  } catch (e) {
    const msg = firstLine(e);
    // Not a Node addon, but it opened (and RTLD_NODELETE keeps it in the process for Dawn to find).
    return /did not self-register/.test(msg) ? undefined : msg;
  }
}

/**
 * With LLM_LAB_WEBGPU_SOFTWARE=1 on Linux, use chromium's Vulkan loader and SwiftShader unless the environment
 * already names an ICD. Returns why the software path cannot be set up, or undefined.
 */
function useChromiumSwiftShader(): string | undefined {
  if (process.platform !== 'linux') return undefined;
  const icd = path.join(CHROMIUM_DIR, 'vk_swiftshader_icd.json');
  if (!process.env.VK_ICD_FILENAMES && !process.env.VK_DRIVER_FILES) {
    if (!fs.existsSync(icd)) return `SwiftShader was asked for (LLM_LAB_WEBGPU_SOFTWARE=1) but ${icd} is missing: apt-get install chromium`;
    process.env.VK_ICD_FILENAMES = icd;
  }
  // Dawn opens libvulkan.so.1 by name; a copy already loaded from chromium's folder answers that name.
  if (openLibrary('libvulkan.so.1') !== undefined) return openLibrary(path.join(CHROMIUM_DIR, 'libvulkan.so.1'));
  return undefined;
}

function vulkanMissing(): string | undefined {
  if (process.platform !== 'linux') return undefined;
  const why = openLibrary('libvulkan.so.1');
  return why === undefined ? undefined : `no Vulkan loader (libvulkan.so.1 cannot be opened: install libvulkan1 and your GPU's Vulkan driver)`;
}

/**
 * TensorFlow.js's WebGPU backend, from a literal require so that esbuild bundles it with the same tfjs-core as
 * the rest of the engine (its kernels register in that copy's registry); in a try, so a build without the
 * optional package still succeeds and this fails at run time instead.
 */
function requireBackendPackage(): unknown {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('@tensorflow/tfjs-backend-webgpu');
  } catch (e) {
    throw e;
  }
}

export function defaultDeps(): WebgpuDeps {
  return { require: () => requireBackendPackage(), loadDawn, vulkanMissing, software: process.env.LLM_LAB_WEBGPU_SOFTWARE === '1' };
}

/** "NVIDIA ampere (…), max buffer 4096 MiB" from what the adapter says about itself. */
export function describeAdapter(info: GpuAdapterInfo, limits: Record<string, number>): string {
  const name = [info.vendor, info.architecture].filter((s) => s).join(' ') || 'unknown adapter';
  const more = [info.description, info.device].filter((s) => s && s !== info.architecture).join(', ');
  const mib = (n: number | undefined): string => (n ? `${Math.round(n / 2 ** 20)} MiB` : '?');
  const soft = info.isFallbackAdapter ? ' [software]' : '';
  return `${name}${more ? ` (${more})` : ''}${soft}, max buffer ${mib(limits.maxBufferSize)}, max binding ${mib(limits.maxStorageBufferBindingSize)}`;
}

interface BackendCtor {
  new (device: unknown, adapterInfo: unknown): tf.KernelBackend;
}

/**
 * Finds an adapter, opens a device on it and registers TensorFlow.js's WebGPU backend as 'webgpu'. Throws an
 * Error whose message is the reason a user reads in the engine report.
 */
export async function startWebgpuBackend(deps: WebgpuDeps = defaultDeps()): Promise<WebgpuStart> {
  let pkg: { WebGPUBackend?: BackendCtor };
  try {
    pkg = deps.require(WEBGPU_PACKAGES[0]) as typeof pkg;
  } catch (e) {
    const missing = /Cannot find module '([^']+)'/.exec(e instanceof Error ? e.message : '')?.[1];
    if (missing === WEBGPU_PACKAGES[0]) throw new Error(`not installed (npm install ${WEBGPU_PACKAGES.join(' ')}: optional dependencies)`);
    throw new Error(`${WEBGPU_PACKAGES[0]} failed to load: ${firstLine(e)}`);
  }
  if (typeof pkg.WebGPUBackend !== 'function') throw new Error(`${WEBGPU_PACKAGES[0]} has no WebGPUBackend: reinstall it (npm ci)`);
  // The package registered a factory of its own if this process had navigator.gpu: the engine starts it instead.
  if (!registered && tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu');

  if (deps.software) {
    const why = useChromiumSwiftShader();
    if (why) throw new Error(why);
  } else {
    const why = deps.vulkanMissing();
    if (why) throw new Error(why);
  }
  let dawn: DawnModule;
  try {
    dawn = deps.loadDawn();
  } catch (e) {
    throw new Error(/^not installed/.test(firstLine(e)) ? firstLine(e) : `the Dawn binary failed to load: ${firstLine(e)}`);
  }
  const gpu = dawn.create([]);
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) {
    throw new Error(
      deps.software
        ? 'no adapter, not even SwiftShader (check VK_ICD_FILENAMES)'
        : 'no adapter: the Vulkan/Metal/D3D12 driver reports no GPU (set LLM_LAB_WEBGPU_SOFTWARE=1 to test on SwiftShader)',
    );
  }
  const described = describeAdapter(adapter.info, adapter.limits);
  if (adapter.info.isFallbackAdapter && !deps.software) {
    throw new Error(`only a software adapter: ${described}; far slower than the CPU backends, so it is not used (LLM_LAB_WEBGPU_SOFTWARE=1 allows it)`);
  }
  const limits = adapter.limits;
  const wanted = ['maxComputeWorkgroupStorageSize', 'maxComputeWorkgroupsPerDimension', 'maxStorageBufferBindingSize', 'maxBufferSize',
    'maxComputeWorkgroupSizeX', 'maxComputeInvocationsPerWorkgroup'];
  const device = await adapter.requestDevice({
    requiredFeatures: adapter.features.has('timestamp-query') ? ['timestamp-query'] : [],
    requiredLimits: Object.fromEntries(wanted.map((k) => [k, limits[k]])),
  });
  installGlobals(dawn, gpu);
  const backend = new pkg.WebGPUBackend(device, adapter.info);
  failLoudly(device as GpuDevice, backend as unknown as Readable);
  tf.registerBackend('webgpu', () => backend, 0);
  registered = true;
  return { detail: `WebGPU on Dawn: ${described}`, adapter: adapter.info };
}

interface GpuDevice {
  onuncapturederror: ((ev: { error: { message: string } }) => void) | null;
}

interface Readable {
  read(dataId: object): Promise<unknown>;
}

/**
 * Work the GPU rejects (a kernel over a device limit, memory exhausted) is dropped with only a message, and the
 * numbers read afterwards would be silently wrong. Keep the first such error and make the next read throw it.
 */
function failLoudly(device: GpuDevice, backend: Readable): void {
  let pending: string | undefined;
  device.onuncapturederror = (ev) => {
    pending ??= ev.error.message.split('\n')[0];
  };
  const read = backend.read.bind(backend);
  backend.read = async (dataId: object) => {
    const value = await read(dataId);
    if (pending) {
      const why = pending;
      pending = undefined;
      throw new Error(`The GPU rejected work, so results are wrong: ${why}`);
    }
    return value;
  };
}

/** The WebGPU globals the TensorFlow.js backend expects of a browser (GPUBufferUsage, navigator.gpu, …). */
function installGlobals(dawn: DawnModule, gpu: unknown): void {
  const g = globalThis as Record<string, unknown>;
  for (const [k, v] of Object.entries(dawn.globals)) if (g[k] === undefined) g[k] = v;
  const nav = g.navigator as Record<string, unknown> | undefined;
  if (!nav) Object.defineProperty(g, 'navigator', { value: { gpu }, configurable: true, writable: true });
  else if (!nav.gpu) Object.defineProperty(nav, 'gpu', { value: gpu, configurable: true });
}
