// The end of a fine-tuning run on the Training tab: each run's measures on its held-out test split and, for
// a classifier, the confusion matrix — rows are the true classes, columns the predicted ones; each cell
// shows its count and is shaded by its share of the row (the heatmap's ramp from the editor background to
// the theme's hot colour), so a good classifier shows a bright diagonal.
import { clear, el } from './dom';
import type { Run } from './runs';
import { mix, readPalette, rgb } from './theme';

type TestResult = NonNullable<Run['test']>;

/** A measure as a person reads it: accuracies as percentages, anything else with four decimals. */
export function formatMeasure(key: string, v: number): string {
  return /accuracy/i.test(key) ? `${(v * 100).toFixed(2)}%` : v.toFixed(4);
}

/** Splits `testAccuracy` into "test accuracy". */
function measureName(key: string): string {
  return key.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
}

export class TestResultsView {
  readonly root = el('div', { id: 'test-results', 'aria-label': 'Test results' });

  render(runs: Run[]): void {
    clear(this.root);
    const done = runs.filter((r) => r.test);
    this.root.hidden = done.length === 0;
    if (done.length === 0) return;
    this.root.append(el('h3', {}, 'Test split'));
    done.forEach((r, i) => this.root.append(this.section(r.id, r.test as TestResult, i)));
  }

  private section(runId: string, t: TestResult, index: number): HTMLElement {
    const box = el('div', { class: 'test-run', 'data-run': runId });
    const measures = Object.entries(t.metrics);
    box.append(el('h4', {}, `${runId} — step ${t.step}`));
    if (measures.length) {
      const table = el('table', { class: 'stats test-metrics' });
      const body = el('tbody');
      for (const [k, v] of measures) body.append(el('tr', { 'data-metric': k }, el('th', { scope: 'row' }, measureName(k)), el('td', {}, formatMeasure(k, v))));
      table.append(body);
      box.append(table);
    }
    if (t.confusion) box.append(this.confusion(runId, t.confusion, index));
    return box;
  }

  private confusion(runId: string, c: NonNullable<TestResult['confusion']>, index: number): HTMLElement {
    const p = readPalette();
    const total = c.counts.reduce((s, row) => s + row.reduce((a, b) => a + b, 0), 0);
    const right = c.counts.reduce((s, row, i) => s + (row[i] ?? 0), 0);
    const table = el('table', {
      class: 'confusion',
      id: `confusion-${index}`,
      'data-run': runId,
      'aria-label': `Confusion matrix of ${runId}: rows are the true classes, columns the predicted classes`,
    });
    table.append(
      el('caption', {}, `Confusion matrix: ${right} of ${total} test rows right`),
      el('thead', {}, el('tr', {}, el('th', { scope: 'col', class: 'corner' }, 'true ↓ / predicted →'), ...c.labels.map((l) => el('th', { scope: 'col' }, l)))),
    );
    const body = el('tbody');
    c.counts.forEach((row, i) => {
      const rowTotal = row.reduce((a, b) => a + b, 0);
      const tr = el('tr', {}, el('th', { scope: 'row' }, c.labels[i]));
      row.forEach((n, j) => {
        const share = rowTotal ? n / rowTotal : 0;
        const td = el(
          'td',
          {
            'data-row': i,
            'data-col': j,
            'data-count': n,
            class: i === j ? 'diagonal' : undefined,
            title: `${n} of ${rowTotal} "${c.labels[i]}" rows predicted "${c.labels[j]}"`,
          },
          String(n),
        );
        // CSSOM, not a style attribute: the panel's CSP allows the one and refuses the other.
        td.style.backgroundColor = rgb(mix(p.background, p.hot, share));
        td.style.color = share > 0.5 ? rgb(p.background) : p.foreground;
        tr.append(td);
      });
      body.append(tr);
    });
    table.append(body);
    return table;
  }
}
