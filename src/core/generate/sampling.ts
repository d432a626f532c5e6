// Choosing the next token from one row of logits, in plain JavaScript on a Float32Array: greedy, temperature,
// top-k and top-p (nucleus). Sampling runs off the tensor backend with the project's seeded Rng, so the same
// seed picks the same tokens on every backend.
import { LlmLabError } from '../errors';

/** How the next token is chosen. */
export interface SamplingOptions {
  /** Softmax temperature; 0 picks the most likely token (greedy). Default 1. */
  temperature?: number;
  /** Keep only the k most likely tokens (ties with the k-th kept too). Unset or 0: no limit. */
  topK?: number;
  /** Keep the smallest set of most likely tokens whose probabilities sum to at least p, in (0, 1]. Unset: 1. */
  topP?: number;
}

/** A source of uniform numbers in [0, 1) (the project's Rng is one). */
export interface UniformSource {
  float(): number;
}

/** Checks sampling options, with a message that names the bad one. */
export function validateSampling(o: SamplingOptions): void {
  const t = o.temperature ?? 1;
  if (!(Number.isFinite(t) && t >= 0)) {
    throw new LlmLabError('bad-argument', `Temperature must be a number ≥ 0 (0 is greedy), got ${o.temperature}.`);
  }
  if (o.topK !== undefined && !(Number.isInteger(o.topK) && o.topK >= 0)) {
    throw new LlmLabError('bad-argument', `top-k must be a whole number ≥ 1 (or 0 for no limit), got ${o.topK}.`);
  }
  if (o.topP !== undefined && !(o.topP > 0 && o.topP <= 1)) {
    throw new LlmLabError('bad-argument', `top-p must be in (0, 1], got ${o.topP}.`);
  }
}

/** Index of the largest value (the first one on ties). */
export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

/** Softmax of `logits / temperature` in float64 for stability; -Infinity logits get probability 0. */
export function softmax(logits: ArrayLike<number>, temperature = 1): Float64Array {
  const n = logits.length;
  let max = -Infinity;
  for (let i = 0; i < n; i++) if (logits[i] > max) max = logits[i];
  const p = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const e = logits[i] === -Infinity ? 0 : Math.exp((logits[i] - max) / temperature);
    p[i] = e;
    sum += e;
  }
  for (let i = 0; i < n; i++) p[i] /= sum;
  return p;
}

/** Indices sorted by decreasing value (stable: lower index first on ties). */
function rankDescending(values: ArrayLike<number>, keep?: (i: number) => boolean): number[] {
  const idx: number[] = [];
  for (let i = 0; i < values.length; i++) if (!keep || keep(i)) idx.push(i);
  idx.sort((a, b) => values[b] - values[a] || a - b);
  return idx;
}

/**
 * The distribution the next token is drawn from: softmax at the temperature, cut to the top k, then to the
 * nucleus of mass p, renormalised. With temperature 0 it is the model's plain softmax (temperature 1) cut
 * the same way; `pickToken` then takes its argmax.
 */
export function samplingDistribution(logits: ArrayLike<number>, o: SamplingOptions = {}): Float64Array {
  const t = o.temperature ?? 1;
  const probs = softmax(logits, t > 0 ? t : 1);
  const k = o.topK ?? 0;
  if (k > 0 && k < probs.length) {
    // The k-th largest value; everything below it goes (ties with it stay, as the book's top-k does).
    const sorted = Float64Array.from(probs).sort();
    const kth = sorted[sorted.length - k];
    for (let i = 0; i < probs.length; i++) if (probs[i] < kth) probs[i] = 0;
  }
  const p = o.topP ?? 1;
  if (p < 1) {
    const order = rankDescending(probs, (i) => probs[i] > 0);
    let total = 0;
    for (const i of order) total += probs[i];
    let mass = 0;
    let kept = 0;
    while (kept < order.length && (kept === 0 || mass < p * total)) mass += probs[order[kept++]];
    for (let j = kept; j < order.length; j++) probs[order[j]] = 0;
  }
  let sum = 0;
  for (let i = 0; i < probs.length; i++) sum += probs[i];
  for (let i = 0; i < probs.length; i++) probs[i] /= sum;
  return probs;
}

/** Draws an index from a distribution that sums to 1 with one uniform number. */
export function drawFrom(probs: ArrayLike<number>, u: number): number {
  let acc = 0;
  let last = 0;
  for (let i = 0; i < probs.length; i++) {
    if (probs[i] <= 0) continue;
    acc += probs[i];
    last = i;
    if (u < acc) return i;
  }
  return last; // rounding left u ≥ the total: the last token with any mass
}

/** The next token: argmax at temperature 0, else a draw from the cut distribution. */
export function pickToken(logits: ArrayLike<number>, o: SamplingOptions, rng: UniformSource): number {
  if ((o.temperature ?? 1) === 0) return argmax(logits);
  return drawFrom(samplingDistribution(logits, o), rng.float());
}

/** The `n` most likely entries of a distribution, most likely first. */
export function topEntries(probs: ArrayLike<number>, n: number): { id: number; prob: number }[] {
  if (n <= 0) return [];
  // One pass keeping a small sorted list: n is small (a handful of candidates), the vocabulary is not.
  const best: { id: number; prob: number }[] = [];
  for (let i = 0; i < probs.length; i++) {
    const prob = probs[i];
    if (best.length === n && prob <= best[n - 1].prob) continue;
    let j = best.length < n ? best.length : n - 1;
    while (j > 0 && best[j - 1].prob < prob) j--;
    best.splice(j, 0, { id: i, prob });
    if (best.length > n) best.pop();
  }
  return best;
}
