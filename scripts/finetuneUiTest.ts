// UI test of fine-tuning in the real VS Code (code-server with the packaged .vsix, driven in Chromium): opens
// the lab panel, runs LLM Lab: Fine-tune Classifier from the palette on a small labelled file made in the
// workspace, answering its quick picks (data file, the tiny preset's fresh weights, all parameters, epochs)
// and the summary dialog as a person would, then watches the panel: the loss and accuracy curves grow while
// the run trains, and the confusion matrix of the test split shows when it ends. Then, in the same workbench,
// the instruction scenario of instructUiTest.ts (Fine-tune on Instructions with LoRA and in full, Ask the Model,
// Select Model, Merge LoRA Adapter, Stop and Resume Training). Screenshots go to test-results/finetune-*.png.
// Exits non-zero on any failure.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FrameLocator, Page } from 'playwright-core';
import { ROOT } from './codeServer';
import type { InstructionRecord } from './instructUiTest';
import { instructScenario, prepareInstructions } from './instructUiTest';
import { answerQuickInput, until } from './panelUiTest';
import { runFromPalette, runUiTest, step, withInstalledWorkbench } from './uiTest';

const RESULTS = join(ROOT, 'test-results');
const SPAM = ['win a free prize now', 'free cash prize claim now', 'you win free tickets', 'claim your free prize today', 'urgent free prize win'];
const HAM = ['see you at lunch', 'the meeting moved to noon', 'can you call me later', 'dinner at home tonight', 'running late see you soon'];
// 400 rows split 70/10/20: 280 training rows, 35 steps of batch 8 an epoch; the `small` preset's fresh weights
// take long enough a step for the panel to be seen mid-run.
const ROWS = 400;
const EPOCHS = 2;
const STEPS = 70;

async function points(panel: FrameLocator, chart: string): Promise<Record<string, number>> {
  const raw = await panel.locator(chart).getAttribute('data-points', { timeout: 1000 });
  return JSON.parse(raw ?? '{}') as Record<string, number>;
}

const sum = (o: Record<string, number>, suffix: string) => Object.entries(o).filter(([k]) => k.endsWith(suffix)).reduce((s, [, n]) => s + n, 0);

async function main(): Promise<void> {
  const t0 = Date.now();
  let ws = '';
  let records: InstructionRecord[] = [];
  await withInstalledWorkbench(
    'finetune',
    async (page: Page) => {
      const panel = page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');
      await step('open the panel with LLM Lab: Open Lab Panel', async () => {
        await runFromPalette(page, 'LLM Lab: Open Lab Panel');
        await panel.locator('#train-start').waitFor({ timeout: 30_000 });
      });
      await step('run LLM Lab: Fine-tune Classifier, answering its questions and the summary', async () => {
        await runFromPalette(page, 'LLM Lab: Fine-tune Classifier');
        // Each question has its own title, so the test can tell one from the next when they follow at once.
        await answerQuickInput(page, 'fine-tune a classifier: labelled data', { row: 'spam.tsv' });
        await answerQuickInput(page, 'fine-tune a classifier: base model', { value: 'small', row: 'random weights' });
        await answerQuickInput(page, 'what trains', { row: 'All parameters' });
        await answerQuickInput(page, 'epochs', { value: String(EPOCHS) });
        const summary = page.locator('.monaco-dialog-box', { hasText: '2-class classifier' });
        await summary.waitFor({ timeout: 60_000 });
        const text = await summary.innerText();
        for (const want of ['ham 200', 'spam 200', 'Split: 280 training · 40 validation · 80 test rows', `${EPOCHS} epochs = ${STEPS} steps`, 'Trains: every parameter']) {
          if (!text.includes(want)) throw new Error(`the summary lacks "${want}": ${text}`);
        }
        await page.screenshot({ path: join(RESULTS, 'finetune-summary.png') });
        await summary.locator('.monaco-button', { hasText: 'Start Fine-tuning' }).click();
        await panel.locator('#train-state', { hasText: 'running' }).waitFor({ timeout: 60_000 });
      });
      const seen = await step('the loss and accuracy curves grow while the run trains', async () => {
        const counts: number[] = [];
        let shot = false;
        await until(page, 180_000, async () => {
          const acc = await points(panel, '#acc-chart').catch(() => ({}));
          const n = sum(acc, ' val acc');
          if (n !== counts[counts.length - 1]) counts.push(n);
          const loss = sum(await points(panel, '#loss-chart'), ' train');
          if (!shot && n >= 1 && loss < STEPS) {
            await page.screenshot({ path: join(RESULTS, 'finetune-panel-running.png') });
            shot = true;
          }
          return (await panel.locator('#train-state').textContent())?.startsWith('completed') ? n : undefined;
        }, () => `the run did not complete; validation accuracy points seen ${JSON.stringify(counts)}`);
        if (!shot) throw new Error('no screenshot was taken while the run trained (it finished before an accuracy point showed)');
        // Evaluated twice an epoch (every 18 of 35 steps) and at the end: steps 18, 36, 54 and 70.
        const final = sum(await points(panel, '#acc-chart'), ' val acc');
        if (final !== 4) throw new Error(`expected 4 validation accuracy points, got ${final} (seen ${JSON.stringify(counts)})`);
        return counts;
      });
      await step('the test split’s confusion matrix shows when the run ends', async () => {
        await panel.locator('#confusion-0').waitFor({ timeout: 30_000 });
        const cells = await panel.locator('#confusion-0 td').allTextContents();
        const total = cells.map(Number).reduce((a, b) => a + b, 0);
        if (cells.length !== 4 || total !== 80) throw new Error(`confusion cells ${JSON.stringify(cells)}: expected 4 cells counting 80 test rows`);
        await panel.locator('#confusion-0').scrollIntoViewIfNeeded();
        await page.screenshot({ path: join(RESULTS, 'finetune-panel-finished.png') });
      });
      await step('the Model tab shows the classifier’s classes and what trained', async () => {
        await panel.locator('[data-tab=model]').click();
        const classes = panel.locator('#model-table [data-key=classes] td');
        await classes.waitFor({ timeout: 30_000 });
        const text = (await classes.textContent()) ?? '';
        if (!/^2: (ham, spam|spam, ham)$/.test(text)) throw new Error(`classes: ${text}`);
        await page.screenshot({ path: join(RESULTS, 'finetune-panel-model.png') });
      });
      const instruct = await instructScenario(page, ws, records);
      console.log(
        `Fine-tuning UI test passed in ${((Date.now() - t0) / 1000).toFixed(0)} s: validation accuracy points seen ${JSON.stringify(seen)}; ${instruct}. ` +
          'Screenshots in test-results/.',
      );
    },
    async (dir) => {
      ws = dir;
      const rows: string[] = [];
      for (let i = 0; i < ROWS / 2; i++) rows.push(`spam\t${SPAM[i % 5]} ${i}`, `ham\t${HAM[i % 5]} ${i}`);
      writeFileSync(join(dir, 'spam.tsv'), rows.join('\n') + '\n');
      records = await step('make a model that knows ten instruction records, with the CLI', async () => prepareInstructions(dir));
    },
  );
}

if (require.main === module) runUiTest(main);
