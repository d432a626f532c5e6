// The learning-rate schedule of pretraining: linear warmup from 0 to the peak, then cosine decay to the minimum
// at the last step (as in the book's appendix D and nanoGPT). A pure function of the step, so a resumed run
// follows the same curve.

export interface LrSchedule {
  /** Peak learning rate, reached at the end of warmup. */
  lr: number;
  /** Learning rate at the last step. */
  minLr: number;
  /** Steps of linear warmup (0 for none). */
  warmupSteps: number;
  /** Total optimizer steps of the run. */
  totalSteps: number;
}

/**
 * Learning rate of optimizer step `step` (1-based: the first update is step 1). During warmup
 * lr·step/warmup; then minLr + (lr − minLr)·½(1 + cos(π·p)) with p going from 0 just after warmup to 1 at
 * totalSteps. Past totalSteps it stays at minLr.
 */
export function learningRateAt(step: number, s: LrSchedule): number {
  if (s.warmupSteps > 0 && step <= s.warmupSteps) return (s.lr * step) / s.warmupSteps;
  const span = s.totalSteps - s.warmupSteps;
  if (span <= 0) return s.lr;
  const p = Math.min(1, Math.max(0, (step - s.warmupSteps) / span));
  return s.minLr + (s.lr - s.minLr) * 0.5 * (1 + Math.cos(Math.PI * p));
}
