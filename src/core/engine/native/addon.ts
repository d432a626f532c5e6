// Finds and loads the llm_lab_native addon (build/Release/llm_lab_native.node under the package root), or
// explains why it cannot: not built, no compiler at install time, or built for another Node ABI. The path
// is resolved from the package root at run time so the esbuild bundles in dist/ find it too.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The C++ functions (native/src/addon.cc). Sizes are element counts; every buffer is checked. */
export interface NativeAddon {
  info(): { threads: number; simd: string; compiler?: string };
  gemm(
    a: Float32Array, aRow: number, aCol: number,
    b: Float32Array, bRow: number, bCol: number,
    c: Float32Array, ldc: number,
    m: number, n: number, k: number, alpha: number, beta: number, bias: Float32Array | null,
    batch: number, strideA: number, strideB: number, strideC: number, strideBias: number,
  ): void;
  layerNormForward(x: Float32Array, gamma: Float32Array, beta: Float32Array, n: number, c: number, eps: number,
    y: Float32Array, mean: Float32Array, rstd: Float32Array): void;
  layerNormBackward(dy: Float32Array, x: Float32Array, gamma: Float32Array, mean: Float32Array, rstd: Float32Array,
    n: number, c: number, dx: Float32Array, dgamma: Float32Array, dbeta: Float32Array): void;
  geluForward(x: Float32Array, y: Float32Array, n: number): void;
  geluBackward(x: Float32Array, dy: Float32Array, dx: Float32Array, n: number): void;
  crossEntropyForward(logits: Float32Array, targets: Int32Array, n: number, v: number, ignore: number,
    lse: Float32Array): [lossSum: number, count: number];
  crossEntropyBackward(logits: Float32Array, targets: Int32Array, lse: Float32Array, n: number, v: number,
    ignore: number, scale: number, dlogits: Float32Array): void;
  embeddingForward(ids: Int32Array, n: number, table: Float32Array, rows: number, c: number, out: Float32Array): number;
  embeddingBackward(ids: Int32Array, n: number, dy: Float32Array, rows: number, c: number, dtable: Float32Array): void;
  columnSums(x: Float32Array, n: number, c: number, out: Float32Array): void;
  adamw(p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, n: number, lr: number, beta1: number,
    beta2: number, eps: number, weightDecay: number, step: number): void;
  /** y[i] = x[i]·(dropout factor of element i): the mask of dropoutMask.ts, made in C++. */
  dropoutApply(x: Float32Array, y: Float32Array, n: number, threshold: number, k0: number, k1: number, scale: number): void;
  /** The last four arguments, when given, drop the softmaxed weights (see dropoutMask.ts). */
  attentionForward(q: Float32Array, k: Float32Array, v: Float32Array, bh: number, tq: number, tk: number, d: number,
    offset: number, out: Float32Array, lse: Float32Array, weights: Float32Array | null,
    ...drop: [threshold: number, k0: number, k1: number, scale: number] | []): void;
  attentionBackward(q: Float32Array, k: Float32Array, v: Float32Array, out: Float32Array, dout: Float32Array,
    lse: Float32Array, bh: number, tq: number, tk: number, d: number, offset: number,
    dq: Float32Array, dk: Float32Array, dv: Float32Array, ...drop: [threshold: number, k0: number, k1: number, scale: number] | []): void;
  /** dst (row-major `shape`) = src[offset + Σ idx·strides]; 32-bit elements. */
  stridedCopy(src: Float32Array | Int32Array, dst: Float32Array | Int32Array, shape: number[], strides: number[], offset: number): void;
  /** out[i] = a[i] + b[i mod m], i < n. */
  addRepeat(a: Float32Array, n: number, b: Float32Array, m: number, out: Float32Array): void;
  /** out[i] = a[i] · b[i mod m], i < n. */
  mulRepeat(a: Float32Array, n: number, b: Float32Array, m: number, out: Float32Array): void;
  /** out[r] = index of the first largest value of row r of x (rows, cols). */
  argMaxRows(x: Float32Array, rows: number, cols: number, out: Int32Array): void;
  /**
   * A GPT forward pass for generation (decode.cc): rows `ids` (t of them) at positions pos0.., keys and values
   * written into the caches (layers, heads, context, head size), the last row's logits into `logits` (V).
   */
  gptForward(weights: Float32Array[], shape: number[], ids: Int32Array, t: number, pos0: number,
    kCache: Float32Array, vCache: Float32Array, logits: Float32Array): void;
  /** n samples of Rng.fillNormal's ziggurat (bit-identical) from the xoshiro128** state, which it advances. */
  fillNormal(state: Uint32Array, out: Float32Array, n: number, std: number, k: Float64Array, w: Float64Array, f: Float64Array): void;
}

const ADDON_PATH = ['build', 'Release', 'llm_lab_native.node'];
const STATUS_PATH = ['build', 'native-status.json'];

/** The folder holding LLM Lab's package.json, found by walking up from this module's folder. */
export function packageRoot(from: string = __dirname): string | undefined {
  let dir = from;
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        if ((JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'llm-lab') return dir;
      } catch {
        // not ours; keep walking
      }
    }
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

interface BuildStatus {
  ok?: boolean;
  reason?: string;
  node?: string;
  modules?: string;
}

function readStatus(root: string): BuildStatus | undefined {
  try {
    return JSON.parse(readFileSync(join(root, ...STATUS_PATH), 'utf8')) as BuildStatus;
  } catch {
    return undefined;
  }
}

let cached: NativeAddon | undefined;

/** Loads the addon once; throws an Error whose message says why it is unavailable and what to do. */
export function loadAddon(): NativeAddon {
  if (cached) return cached;
  const override = process.env.LLM_LAB_NATIVE_PATH;
  const root = packageRoot();
  const file = override ?? (root ? join(root, ...ADDON_PATH) : undefined);
  if (!file || !existsSync(file)) {
    const status = root ? readStatus(root) : undefined;
    if (status && status.ok === false && status.reason) {
      throw new Error(`not built: ${status.reason}`);
    }
    throw new Error('not built: run npm run build:native');
  }
  const mod = { exports: {} as unknown };
  try {
    process.dlopen(mod, file);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    const status = root ? readStatus(root) : undefined;
    if (/NODE_MODULE_VERSION|different Node\.js version|undefined symbol/i.test(msg) ||
        (status?.modules && status.modules !== process.versions.modules)) {
      throw new Error(
        `built for another Node ABI (built with Node ${status?.node ?? '?'}, running ${process.versions.node}): run npm run build:native`,
      );
    }
    throw new Error(`could not load ${file}: ${msg.split('\n')[0]}`);
  }
  cached = mod.exports as NativeAddon;
  return cached;
}
