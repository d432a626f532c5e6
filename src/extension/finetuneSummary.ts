// The summary a fine-tuning command shows before it starts, from the worker's plan: the classes and their
// rows (and after balancing), the split, the length in tokens, what trains and how much of the model that is,
// the run's length and the memory it needs. Pure (no `vscode`): unit-tested; the commands show it in a dialog.
import { formatBytes } from '../core/model/config';
import type { FinetunePlan } from '../protocol/worker';

const n = (x: number) => x.toLocaleString('en-US');

/** Parameters in millions (or thousands, for small counts), as people read them. */
export function formatCount(x: number): string {
  if (x >= 1e6) return `${(x / 1e6).toFixed(x >= 1e8 ? 0 : 1)}M`;
  if (x >= 1e4) return `${(x / 1e3).toFixed(1)}k`;
  return n(x);
}

function share(part: number, whole: number): string {
  const p = whole > 0 ? (100 * part) / whole : 0;
  return `${p < 1 ? p.toFixed(2) : p.toFixed(1)}%`;
}

export interface PlanSummary {
  /** One line: the question. */
  message: string;
  /** The figures, one a line. */
  detail: string;
}

/** `dataName` is how the data file is shown (relative to the workspace). */
export function planSummary(plan: FinetunePlan, dataName: string): PlanSummary {
  const classifier = plan.labels !== undefined;
  const message = classifier
    ? `Fine-tune a ${plan.labels!.length}-class classifier from ${plan.base} on ${dataName}?`
    : `Fine-tune ${plan.base} on the instructions in ${dataName}?`;
  const lines: string[] = [];
  if (classifier) {
    const per = plan.labels!.map((l) => `${l} ${n(plan.perClass?.[l] ?? 0)}`).join(' · ');
    lines.push(`Classes: ${per} (${n(plan.rows)} rows)`);
    const balanced = plan.perClassBalanced;
    if (balanced && plan.labels!.some((l) => balanced[l] !== plan.perClass?.[l])) {
      lines.push(`After balancing: ${plan.labels!.map((l) => `${l} ${n(balanced[l] ?? 0)}`).join(' · ')}`);
    }
  } else {
    lines.push(`Records: ${n(plan.rows)}${plan.promptStyle ? `, prompts in the ${plan.promptStyle} style` : ''}`);
  }
  const unit = classifier ? 'rows' : 'records';
  lines.push(`Split: ${n(plan.split.train)} training · ${n(plan.split.val)} validation · ${n(plan.split.test)} test ${unit}`);
  const cut = plan.truncated ? `; ${n(plan.truncated)} cut to it` : '';
  lines.push(`Length: ${classifier ? `padded to ${n(plan.maxLength)} tokens (longest ${n(plan.longest)})` : `longest ${n(plan.longest)} tokens, context ${n(plan.maxLength)}`}${cut}`);
  lines.push(`Trains: ${plan.trains} — ${n(plan.trainableParameters)} of ${formatCount(plan.parameters)} parameters (${share(plan.trainableParameters, plan.parameters)})`);
  const epochs = Number.isInteger(plan.epochs) ? String(plan.epochs) : plan.epochs.toFixed(2);
  lines.push(`Length of the run: ${epochs} epoch${plan.epochs === 1 ? '' : 's'} = ${n(plan.steps)} steps (${n(plan.stepsPerEpoch)} an epoch)`);
  lines.push(`Memory: about ${formatBytes(plan.memoryBytes)} to train, of ${formatBytes(plan.machineBytes)} on this machine${plan.fits ? '' : ' — too much'}`);
  return { message, detail: lines.join('\n') };
}
