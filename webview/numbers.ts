// Number formats of the lab panel's charts. Plain TypeScript (no DOM), so the unit tests can check them.

/**
 * A learning-rate axis tick as people write rates: 3e-3, 2.5e-4, 5e-5. The charts' default number format keeps
 * three decimals, which shows every rate below 0.0005 (fine-tuning's 5e-5 among them) as "0". Zero stays "0";
 * from 0.01 up a rate reads as a decimal (0.02, 1.5).
 */
export function fmtRate(v: number): string {
  if (v === 0 || !Number.isFinite(v)) return String(v);
  if (Math.abs(v) >= 0.01) return String(Number(v.toPrecision(3)));
  return v.toExponential(2).replace(/\.?0+e/, 'e');
}
