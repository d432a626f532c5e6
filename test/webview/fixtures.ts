// Shared data and colour helpers of the panel's Chromium tests: a small causal attention example and the
// colour ramp the heatmap should draw, computed here independently of the panel's code.
import * as assert from 'node:assert/strict';

export type Rgb = [number, number, number];
export const hex = (h: string): Rgb => [1, 3, 5].map((i) => parseInt(h.slice(i, i + 2), 16)) as Rgb;
export const ramp = (a: Rgb, b: Rgb, t: number): Rgb => a.map((v, i) => Math.round(v + (b[i] - v) * t)) as Rgb;
export function near(actual: Rgb, expected: Rgb, what: string): void {
  assert.ok(actual.every((v, i) => Math.abs(v - expected[i]) <= 2), `${what}: got rgb(${actual}) expected rgb(${expected})`);
}

// Attention test data: 2 layers × 2 heads over 4 tokens, causal (row i attends to keys 0..i).
export const tokens = ['The', ' cat', ' sat', '\n'];
export const T = tokens.length;
function head(seed: number): number[] {
  const m = new Array(T * T).fill(0);
  for (let i = 0; i < T; i++) {
    const raw = Array.from({ length: i + 1 }, (_, j) => 1 + ((seed * 7 + i * 3 + j * 5) % 9));
    const sum = raw.reduce((a, b) => a + b, 0);
    raw.forEach((v, j) => (m[i * T + j] = v / sum));
  }
  return m;
}
export const weights = [
  [head(1), head(2)],
  [head(3), head(4)],
];

