// Seeded inverted dropout whose mask is a pure function of (seed, element index): element i is kept, and
// scaled by 1/(1 − rate), when a 32-bit hash of i under the seed's two keys is at least ⌊rate·2³²⌋. Nothing
// is stored between the forward and the backward pass (the backward regenerates the mask), masks are the
// same on every backend, and the native kernels (native/src/kernels.h) compute the same hash, so C++ and
// JavaScript masks agree bit for bit. A run repeats its masks step for step from its seed.

/** One 32-bit avalanche round (a multiply-xorshift integer hash with good bias). */
export function mix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

/** The hash that decides element `i`'s fate under keys k0, k1 (i taken mod 2³²). */
export function dropoutBits(k0: number, k1: number, i: number): number {
  return mix32((mix32((i ^ k0) >>> 0) + k1) >>> 0);
}

/** A dropout mask's parameters, as the native kernels take them. */
export interface DropoutMask {
  /** Elements whose hash is below this are dropped: ⌊rate·2³²⌋. */
  threshold: number;
  k0: number;
  k1: number;
  /** Kept elements are multiplied by this: float32(1/(1 − rate)). */
  scale: number;
}

/** The mask of dropout at `rate` (0 < rate < 1) under `seed` (any non-negative integer below 2⁵³). */
export function dropoutMask(rate: number, seed: number): DropoutMask {
  const hi = Math.floor(seed / 4294967296) >>> 0;
  const k0 = mix32((seed >>> 0) ^ mix32(hi));
  const k1 = mix32((k0 ^ 0x9e3779b9) >>> 0);
  return { threshold: Math.min(0xffffffff, Math.floor(rate * 4294967296)), k0, k1, scale: Math.fround(1 / (1 - rate)) };
}

/** The factors (0 or scale) of elements 0 .. n−1 of a tensor under `m`. */
export function dropoutFactors(m: DropoutMask, n: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = dropoutBits(m.k0, m.k1, i) >= m.threshold ? m.scale : 0;
  return out;
}
