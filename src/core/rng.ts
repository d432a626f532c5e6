// A small seeded pseudo-random generator (xoshiro128**, seeded through splitmix32) for everything in LLM Lab
// that must be reproducible: data shuffling, batch order, sampling. Its whole state is four uint32 numbers,
// so a run can save it in a checkpoint and resume with exactly the same stream.
import { LlmLabError } from './errors';

const TWO_32 = 4294967296;

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** Where the ziggurat's base layer meets the tail, and the area of each layer (Marsaglia and Tsang, 2000). */
const ZIG_R = 3.442619855899;
const ZIG_V = 9.91256303526217e-3;

const INV_LN2 = 1.4426950408889634;
const LN2_HI = 0.6931471803691238;
const LN2_LO = 1.9082149292705877e-10;
const EXP_TERMS = [1 / 39916800, 1 / 3628800, 1 / 362880, 1 / 40320, 1 / 5040, 1 / 720, 1 / 120, 1 / 24, 1 / 6, 1 / 2, 1];
const LOG_TERMS = [1 / 21, 1 / 19, 1 / 17, 1 / 15, 1 / 13, 1 / 11, 1 / 9, 1 / 7, 1 / 5, 1 / 3, 1];

/**
 * e^y for y ≤ 0 from + − × ÷ alone (y = k·ln2 + r, Taylor series to r^12, halved −k times): unlike Math.exp,
 * whose last bit may differ from the C library's, any IEEE implementation of the same steps gives the same
 * double, so the native fillNormal (native/src/random.cc) reproduces fillNormal's slow paths bit for bit.
 */
export function portableExp(y: number): number {
  const k = Math.floor(y * INV_LN2 + 0.5);
  const r = (y - k * LN2_HI) - k * LN2_LO;
  let p = 1 / 479001600;
  for (const c of EXP_TERMS) p = p * r + c;
  p = p * r + 1;
  let scale = 1;
  for (let i = 0; i < -k; i++) scale *= 0.5;
  return p * scale;
}

/** ln u for 0 < u ≤ 1 from + − × ÷ alone (u = 2^e·m, m in (√½, √2], 2·atanh((m−1)/(m+1)) to s^23); see portableExp. */
export function portableLog(u: number): number {
  let e = 0;
  let m = u;
  while (m < 1) {
    m *= 2;
    e -= 1;
  }
  if (m > Math.SQRT2) {
    m *= 0.5;
    e += 1;
  }
  const s = (m - 1) / (m + 1);
  const s2 = s * s;
  let p = 1 / 23;
  for (const c of LOG_TERMS) p = p * s2 + c;
  return e * LN2_HI + (e * LN2_LO + 2 * s * p);
}

/** The ziggurat's tables, as fillNormal uses them. */
export interface ZigguratTables {
  k: Float64Array;
  w: Float64Array;
  f: Float64Array;
}

/**
 * A faster fillNormal with the very same output: (state, out, std, tables) fills `out` and advances the
 * four-word xoshiro128** state in place. The engine registers the native addon's when it loads.
 */
export type NormalFill = (state: Uint32Array, out: Float32Array, std: number, tables: ZigguratTables) => void;

let fastFill: NormalFill | undefined;

/** Makes Rng.fillNormal use `fill` for long arrays (undefined: plain JavaScript again). */
export function useNormalFill(fill: NormalFill | undefined): void {
  fastFill = fill;
}

let zigTables: ZigguratTables | undefined;

/**
 * The ziggurat's tables for 24-bit magnitudes: a draw m in layer i is accepted at once when m < k[i], and is
 * then the sample m·w[i]; f[i] is the density at the layer's edge.
 */
export function ziggurat(): ZigguratTables {
  if (zigTables) return zigTables;
  const m1 = 2 ** 24;
  const k = new Float64Array(128), w = new Float64Array(128), f = new Float64Array(128);
  let dn = ZIG_R, tn = dn;
  const q = ZIG_V / Math.exp(-0.5 * dn * dn);
  k[0] = (dn / q) * m1;
  k[1] = 0;
  w[0] = q / m1;
  w[127] = dn / m1;
  f[0] = 1;
  f[127] = Math.exp(-0.5 * dn * dn);
  for (let i = 126; i >= 1; i--) {
    dn = Math.sqrt(-2 * Math.log(ZIG_V / dn + Math.exp(-0.5 * dn * dn)));
    k[i + 1] = (dn / tn) * m1;
    tn = dn;
    f[i] = Math.exp(-0.5 * dn * dn);
    w[i] = dn / m1;
  }
  zigTables = { k, w, f };
  return zigTables;
}

export class Rng {
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;

  /** Any finite number is a seed; equal seeds give equal streams. */
  constructor(seed: number) {
    if (!Number.isFinite(seed)) throw new LlmLabError('bad-argument', `Random seed must be a finite number, got ${seed}.`);
    // splitmix32 over the low and high 32 bits of the seed spreads nearby seeds far apart.
    let a = (seed >>> 0) ^ Math.imul(Math.floor(seed / TWO_32) | 0, 0x27d4eb2d);
    const next = (): number => {
      a = (a + 0x9e3779b9) | 0;
      let t = a ^ (a >>> 16);
      t = Math.imul(t, 0x21f0aaad);
      t ^= t >>> 15;
      t = Math.imul(t, 0x735a2d97);
      return (t ^ (t >>> 15)) >>> 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1; // xoshiro must not start at all zeros
  }

  /** A uniform integer in [0, 2^32). */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** A uniform float in [0, 1) with 32 random bits. */
  float(): number {
    return this.nextUint32() / TWO_32;
  }

  /** A uniform integer in [0, n), without modulo bias; n is an integer in 1..2^32. */
  int(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > TWO_32) {
      throw new LlmLabError('bad-argument', `Rng.int needs an integer bound between 1 and 2^32, got ${n}.`);
    }
    const limit = TWO_32 - (TWO_32 % n); // accept only values below the largest multiple of n
    for (;;) {
      const x = this.nextUint32();
      if (x < limit) return x % n;
    }
  }

  /** A standard normal sample (Box-Muller). */
  normal(): number {
    const u = 1 - this.float(); // (0, 1]
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.float());
  }

  /**
   * Fills `out` with N(0, std²) samples and returns it: Marsaglia and Tsang's ziggurat (128 layers), where
   * about 99% of samples cost one 32-bit draw, a table look-up and a multiply. Each draw gives the layer
   * (low 7 bits), the sign (bit 7) and the magnitude (high 24 bits) from separate bits. Plain JavaScript
   * arithmetic (the rare slow paths through portableExp/portableLog), so the same seed gives the same values
   * everywhere; with the native addon loaded, long arrays are filled by its C++ copy of this loop (useNormalFill),
   * which gives the same values several times faster.
   */
  fillNormal(out: Float32Array, std: number): Float32Array {
    if (fastFill && out.length >= 1024) {
      const state = new Uint32Array([this.s0, this.s1, this.s2, this.s3]);
      fastFill(state, out, std, ziggurat());
      [this.s0, this.s1, this.s2, this.s3] = [state[0] | 0, state[1] | 0, state[2] | 0, state[3] | 0];
      return out;
    }
    const { k, w, f } = ziggurat();
    let s0 = this.s0 | 0, s1 = this.s1 | 0, s2 = this.s2 | 0, s3 = this.s3 | 0;
    const draw = (): number => {
      const r = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
      const t = s1 << 9;
      s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t; s3 = rotl(s3, 11);
      return r;
    };
    const uniform = (): number => (draw() + 0.5) / TWO_32; // (0, 1)
    for (let i = 0; i < out.length; i++) {
      for (;;) {
        const r = draw();
        const layer = r & 127;
        const sign = r & 128 ? -1 : 1;
        const m = r >>> 8;
        const x = m * w[layer];
        if (m < k[layer]) {
          out[i] = sign * x * std;
          break;
        }
        if (layer === 0) {
          // The tail beyond R, by Marsaglia's exponential method.
          let tx: number, ty: number;
          do {
            tx = -portableLog(uniform()) / ZIG_R;
            ty = -portableLog(uniform());
          } while (ty + ty < tx * tx);
          out[i] = sign * (ZIG_R + tx) * std;
          break;
        }
        // The wedge between the layer's rectangle and the curve: accept under the density.
        if (f[layer] + uniform() * (f[layer - 1] - f[layer]) < portableExp(-0.5 * x * x)) {
          out[i] = sign * x * std;
          break;
        }
      }
    }
    this.s0 = s0; this.s1 = s1; this.s2 = s2; this.s3 = s3;
    return out;
  }

  /** Shuffles in place (Fisher-Yates) and returns the same array. */
  shuffle<T extends { length: number; [i: number]: unknown }>(a: T): T {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const x = a[i];
      a[i] = a[j];
      a[j] = x;
    }
    return a;
  }

  /** The full state, four uint32 numbers; `Rng.fromState` continues the same stream. */
  getState(): number[] {
    return [this.s0 >>> 0, this.s1 >>> 0, this.s2 >>> 0, this.s3 >>> 0];
  }

  static fromState(s: readonly number[]): Rng {
    const ok = Array.isArray(s) && s.length === 4 && s.every((x) => Number.isInteger(x) && x >= 0 && x < TWO_32);
    if (!ok || s.every((x) => x === 0)) {
      throw new LlmLabError('bad-argument', `Saved random state must be four uint32 numbers, not all zero; got ${JSON.stringify(s)}.`);
    }
    const r = new Rng(0);
    r.s0 = s[0] | 0;
    r.s1 = s[1] | 0;
    r.s2 = s[2] | 0;
    r.s3 = s[3] | 0;
    return r;
  }
}
