// Starts TensorFlow.js's WebAssembly backend (XNNPACK kernels) in Node, with threads. Stock tfjs turns wasm
// threads off in Node, because its pthread workers load from `blob:` URLs that Node's worker_threads cannot
// open, and it caps XNNPACK at half the logical cores. Here the threaded Emscripten module is started from
// files instead (the worker script written to a folder private to this process, never to a shared name another
// user could plant a file at), the core count it sees is raised so the cap lands on the thread count asked for,
// and its workers are unref'd so they never keep Node alive. When the threaded files are missing or fail, the
// stock single-threaded SIMD module runs and the reason is recorded.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import * as wasmPkg from '@tensorflow/tfjs-backend-wasm';
import { tf } from '../tf';

const WASM_PACKAGE = '@tensorflow/tfjs-backend-wasm';
const THREADED = 'tfjs-backend-wasm-threaded-simd';
/** Emscripten pre-creates this many pthread workers; XNNPACK's pool cannot use more without spawning. */
const MAX_THREADS = 8;
const THREADED_INIT_TIMEOUT_MS = 30_000;

const nodeRequire: NodeJS.Require = require;

/** The bits of the WebAssembly API used here (this project compiles without the DOM library's types). */
interface WasmApi {
  instantiate(bytes: Uint8Array, imports: object): Promise<{ instance: object; module: object }>;
}
const wasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

export interface WasmStart {
  backend: BackendWasm;
  threads: number;
  /** What runs, for EngineInfo: "XNNPACK on WebAssembly SIMD, 2 threads". */
  detail: string;
}

/** Threads to use when none are asked for: LLM_LAB_THREADS, else every logical core (at most 8). */
export function defaultThreads(): number {
  const fromEnv = Number(process.env.LLM_LAB_THREADS);
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  const n = Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : cores;
  return Math.max(1, Math.min(MAX_THREADS, n));
}

function packageDir(): string | undefined {
  try {
    return path.dirname(nodeRequire.resolve(`${WASM_PACKAGE}/package.json`));
  } catch {
    return undefined;
  }
}

/**
 * Folders that may hold the wasm binaries and the threaded module's scripts: beside the running bundle
 * (esbuild.mjs copies them to dist/) and inside node_modules (when running from out/ or with ts-node).
 */
export function candidateDirs(): string[] {
  const pkg = packageDir();
  const dirs = [__dirname, path.join(__dirname, '..'), path.join(__dirname, '..', '..')];
  if (pkg) dirs.push(path.join(pkg, 'dist'), path.join(pkg, 'wasm-out'));
  return [...new Set(dirs)];
}

/** The first of `dirs` that holds every one of `files`, or undefined. */
export function findDir(dirs: string[], files: string[]): string | undefined {
  return dirs.find((d) => files.every((f) => fs.existsSync(path.join(d, f))));
}

/**
 * Writes the pthread worker script (tfjs ships it as a JS string) to a file Node can start a Worker from. The
 * file goes into a folder made for this process alone (mkdtemp: a fresh random name, mode 0700), so nothing
 * another user put in the shared temp folder is ever run; the folder is removed when the process exits.
 */
function workerScriptFile(dir: string): string {
  const mod = nodeRequire(path.join(dir, `${THREADED}.worker.js`)) as { wasmWorkerContents?: string };
  if (typeof mod.wasmWorkerContents !== 'string') throw new Error(`${THREADED}.worker.js has no worker script`);
  // The string came from a template literal, so its "\n" escapes are real newlines now; put them back.
  const text = mod.wasmWorkerContents.replace(/\n/g, '\\n');
  const own = fs.mkdtempSync(path.join(os.tmpdir(), 'llm-lab-wasm-'));
  process.once('exit', () => fs.rmSync(own, { recursive: true, force: true }));
  const file = path.join(own, `${THREADED}.worker.js`);
  fs.writeFileSync(file, text, { mode: 0o600, flag: 'wx' });
  return file;
}

interface EmscriptenThreaded {
  cwrap: (name: string, ret: string | null, args: string[]) => (...a: number[]) => number;
  PThread: { runningWorkers: { unref(): void }[]; unusedWorkers: { unref(): void }[] };
  tfjs?: unknown;
}

type ThreadedFactory = (config: Record<string, unknown>) => Promise<EmscriptenThreaded>;

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not start within ${ms / 1000} s`)), ms);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

async function startThreaded(dir: string, threads: number): Promise<BackendWasm> {
  const mainScript = path.join(dir, `${THREADED}.js`);
  const worker = workerScriptFile(dir);
  const factory = nodeRequire(mainScript) as ThreadedFactory;
  const binary = fs.readFileSync(path.join(dir, `${THREADED}.wasm`));
  let fail: (e: unknown) => void = () => undefined;
  const failed = new Promise<never>((_, reject) => (fail = reject));
  // Emscripten uses this object as its Module: PThread appears on it as soon as the factory runs.
  const config: Record<string, unknown> & { PThread?: { terminateAllThreads?: () => void } } = {
    mainScriptUrlOrBlob: mainScript,
    locateFile: (file: string) => (file.endsWith('.worker.js') ? worker : path.join(dir, file)),
    // Instantiate ourselves to report 2×threads logical cores: tfjs sizes its pool at half of them.
    instantiateWasm: (imports: { env: Record<string, unknown> }, receive: (instance: object, module: object) => void) => {
      imports.env.emscripten_num_logical_cores = () => 2 * threads;
      wasmApi.instantiate(binary, imports).then((r) => receive(r.instance, r.module), fail);
      return {};
    },
  };
  let module: EmscriptenThreaded;
  try {
    module = await withTimeout(Promise.race([factory(config), failed]), THREADED_INIT_TIMEOUT_MS, 'The threaded WebAssembly module');
  } catch (e) {
    config.PThread?.terminateAllThreads?.(); // workers of a start that failed would keep Node alive
    throw e;
  }
  module.tfjs = {
    init: module.cwrap('init', null, []),
    initWithThreadsCount: module.cwrap('init_with_threads_count', null, ['number']),
    getThreadsCount: module.cwrap('get_threads_count', 'number', []),
    registerTensor: module.cwrap('register_tensor', null, ['number', 'number', 'number']),
    disposeData: module.cwrap('dispose_data', null, ['number']),
    dispose: module.cwrap('dispose', null, []),
  };
  wasmPkg.setThreadsCount(threads);
  const backend = new wasmPkg.BackendWasm(module as never);
  // XNNPACK's pool threads wait for work forever; unref'd, they end with the process instead of holding it.
  for (const w of [...module.PThread.runningWorkers, ...module.PThread.unusedWorkers]) w.unref();
  return backend;
}

async function startSingle(dir: string | undefined): Promise<BackendWasm> {
  if (dir) wasmPkg.setWasmPaths(dir.endsWith(path.sep) ? dir : dir + path.sep);
  const stock = stockFactory;
  if (!stock) throw new Error('the wasm backend package registered no backend');
  return (await stock()) as BackendWasm;
}

let stockFactory: (() => tf.KernelBackend | Promise<tf.KernelBackend>) | undefined;
let started: WasmStart | undefined;

/**
 * Identity (what tf.clone and every gradient's `save` run) shares the buffer, as the cpu backend does, instead
 * of the stock wasm kernel's copy: tensors are immutable, and the copies cost a full pass over every saved
 * activation (100 MB for a batch of GPT-2 logits) on each training step.
 */
function shareIdentity(args: { inputs: tf.NamedTensorInfoMap; backend: unknown }): tf.TensorInfo {
  const x = args.inputs.x as tf.TensorInfo;
  (args.backend as BackendWasm).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

/**
 * Importing the package registered its kernels and a 'wasm' backend that would start by itself (stock loader,
 * priority above cpu) on the first tensor op. Take that registration back, keeping its factory for the
 * single-threaded start; the backend starts only through startWasm.
 */
function takeOverPackage(): void {
  const registered = tf.findBackendFactory('wasm') as typeof stockFactory | null;
  if (registered) {
    stockFactory = registered;
    tf.removeBackend('wasm');
  }
  tf.unregisterKernel('Identity', 'wasm');
  tf.registerKernel({ kernelName: 'Identity', backendName: 'wasm', kernelFunc: shareIdentity as unknown as tf.KernelFunc });
}
takeOverPackage();

/**
 * Runs `start` and removes the process-wide 'uncaughtException'/'unhandledRejection' handlers Emscripten adds
 * while it starts: they rethrow every later error of the process with a dump of the module's minified source.
 */
async function withoutEmscriptenHandlers<T>(start: () => Promise<T>): Promise<T> {
  const proc = process as unknown as {
    listeners(event: string): ((...args: unknown[]) => void)[];
    removeListener(event: string, listener: (...args: unknown[]) => void): void;
  };
  const events = ['uncaughtException', 'unhandledRejection'];
  const before = events.map((e) => new Set(proc.listeners(e)));
  try {
    return await start();
  } finally {
    events.forEach((e, i) => {
      for (const l of proc.listeners(e)) if (!before[i].has(l)) proc.removeListener(e, l);
    });
  }
}

/**
 * Starts the wasm backend once (later calls return the same) and registers it as 'wasm' in TensorFlow.js.
 * Throws an Error saying why when neither the threaded nor the single-threaded module can start.
 */
export async function startWasm(threads = defaultThreads()): Promise<WasmStart> {
  if (started) return started;
  const dirs = candidateDirs();
  let backend: BackendWasm | undefined;
  let why = '';
  let used = 1;
  let simd = true;
  if (threads > 1) {
    const dir = findDir(dirs, [`${THREADED}.js`, `${THREADED}.worker.js`, `${THREADED}.wasm`]);
    if (typeof SharedArrayBuffer === 'undefined') why = 'this Node.js has no SharedArrayBuffer';
    else if (!dir) why = `the threaded module's files were not found in ${dirs.join(', ')}`;
    else {
      try {
        backend = await withoutEmscriptenHandlers(() => startThreaded(dir, threads));
        used = backend.wasm.tfjs.getThreadsCount();
      } catch (e) {
        why = `threaded start failed: ${e instanceof Error ? e.message : String(e)}`;
      }
    }
  }
  if (!backend) {
    const dir = findDir(dirs, ['tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm.wasm']);
    if (!dir) throw new Error(`the .wasm binaries were not found in ${dirs.join(', ')} (reinstall: npm ci)`);
    backend = await withoutEmscriptenHandlers(() => startSingle(dir));
    simd = (await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) === true;
    used = 1;
  }
  const instance = backend;
  tf.registerBackend('wasm', () => instance, 0);
  const threadText = `${used} thread${used === 1 ? '' : 's'}`;
  const detail = `XNNPACK on WebAssembly${simd ? ' SIMD' : ''}, ${threadText}${why ? ` (${why})` : ''}`;
  started = { backend, threads: used, detail };
  return started;
}
