// UI test of the lab panel in the real VS Code (code-server with the packaged .vsix, driven in Chromium):
// opens the panel from the command palette, starts a short training with the panel's Start button
// (answering the quick picks as a person would) and watches the loss curve's point count grow, asks for
// the attention maps of a typed text and counts the maps drawn, then generates in the playground and
// watches the text stream in. Screenshots go to test-results/panel-*.png. Exits non-zero on any failure.
import { join } from 'node:path';
import type { FrameLocator, Page } from 'playwright-core';
import { ROOT } from './codeServer';
import { runFromPalette, runUiTest, step, withInstalledWorkbench } from './uiTest';

const RESULTS = join(ROOT, 'test-results');
// The `tiny` preset: 2 layers of 2 heads (src/core/model/config.ts); the panel adds one average per layer.
const TINY_LAYERS = 2;
const TINY_HEADS = 2;
const STEPS = 50; // "Quick look", the shortest run length offered.

/** Polls `probe` until it returns a value (not undefined) or `timeoutMs` passes; then throws `why()`. */
export async function until<T>(page: Page, timeoutMs: number, probe: () => Promise<T | undefined>, why: () => string): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(why());
    await page.waitForTimeout(200);
  }
}

/** Answers the quick input that has `title`: types `value` (if any) and accepts the row matching `row` or the input. */
export async function answerQuickInput(page: Page, title: string, opts: { value?: string; row?: string }): Promise<void> {
  const widget = page.locator('.quick-input-widget', { hasText: title });
  await widget.waitFor({ state: 'visible', timeout: 30_000 });
  const input = widget.locator('input').first();
  if (opts.value !== undefined) await input.fill(opts.value);
  if (opts.row) {
    const row = widget.locator('.quick-input-list .monaco-list-row', { hasText: opts.row }).first();
    await row.waitFor({ state: 'visible' });
    await row.click();
  } else {
    await input.press('Enter');
  }
  await widget.waitFor({ state: 'hidden', timeout: 10_000 });
}

async function lossPoints(panel: FrameLocator): Promise<number> {
  const raw = await panel.locator('#loss-chart').getAttribute('data-points', { timeout: 1000 });
  const counts = JSON.parse(raw ?? '{}') as Record<string, number>;
  return Object.entries(counts).filter(([k]) => k.endsWith(' train')).reduce((s, [, n]) => s + n, 0);
}

async function main(): Promise<void> {
  const t0 = Date.now();
  await withInstalledWorkbench('panel', async (page) => {
    const panel = page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');
    await step('open the panel with LLM Lab: Open Lab Panel', async () => {
      await runFromPalette(page, 'LLM Lab: Open Lab Panel');
      await panel.locator('#train-start').waitFor({ timeout: 30_000 });
    });
    await step(`start a ${STEPS}-step tiny run from the panel's Start button, answering the questions`, async () => {
      await panel.locator('#train-start').click();
      await answerQuickInput(page, 'files to train on', { value: 'corpus/*.txt' });
      await answerQuickInput(page, 'model preset', { row: 'tiny' });
      await answerQuickInput(page, 'run length', { row: 'Quick look' });
      const confirm = page.locator('.monaco-dialog-box', { hasText: `for ${STEPS} steps` });
      await confirm.waitFor({ timeout: 30_000 });
      await confirm.locator('.monaco-button', { hasText: 'Start Training' }).click();
      await panel.locator('#train-state', { hasText: 'running' }).waitFor({ timeout: 30_000 });
    });
    const seen = await step('the loss curve grows while the run trains, to one point per step', async () => {
      const counts: number[] = [];
      await until(page, 120_000, async () => {
        const n = await lossPoints(panel);
        if (n !== counts[counts.length - 1]) counts.push(n);
        if (counts.length === 2) await page.screenshot({ path: join(RESULTS, 'panel-training-running.png') });
        return n >= STEPS ? n : undefined;
      }, () => `the curve stopped at ${JSON.stringify(counts)} points; expected it to reach ${STEPS}`);
      const growing = counts.filter((n) => n > 0);
      if (growing.length < 2) throw new Error(`the curve did not grow in steps: point counts seen ${JSON.stringify(counts)}`);
      for (let k = 1; k < counts.length; k++) if (counts[k] < counts[k - 1]) throw new Error(`the curve lost points: ${JSON.stringify(counts)}`);
      if (counts[counts.length - 1] !== STEPS) throw new Error(`expected ${STEPS} points, got ${JSON.stringify(counts)}`);
      await panel.locator('#train-state', { hasText: 'completed' }).waitFor({ timeout: 60_000 });
      await page.screenshot({ path: join(RESULTS, 'panel-training-finished.png') });
      return growing;
    });
    const maps = await step('the Attention tab draws every layer and head of a typed text', async () => {
      await panel.locator('[data-tab=attention]').click();
      await panel.locator('#attn-text textarea').fill('Every effort moves you');
      const want = TINY_LAYERS * (TINY_HEADS + 1);
      // The run's checkpoint becomes the model when the run ends; until then the host says no model is selected.
      return until(page, 60_000, async () => {
        const status = (await panel.locator('#attn-status').textContent({ timeout: 1000 })) ?? '';
        if (!/Computing/.test(status)) await panel.locator('#attn-show').click();
        await panel.locator('.attn-small').first().waitFor({ timeout: 3000 });
        const n = await panel.locator('.attn-small').count();
        if (n !== want) throw new Error(`${n} maps`);
        if (!(await panel.locator('#attn-big').getAttribute('data-cell'))) return undefined;
        // "Every effort moves you" is four GPT-2 tokens.
        const said = (await panel.locator('#attn-status').textContent()) ?? '';
        if (said !== `4 tokens, ${TINY_LAYERS} layers × ${TINY_HEADS} heads`) throw new Error(`attention status: ${said}`);
        await page.screenshot({ path: join(RESULTS, 'panel-attention.png') });
        return `${n} maps; ${said}`;
      }, () => `expected ${want} maps (layers × (heads + average)); status: see panel-failure.png`);
    });
    const generated = await step('the Playground streams generated text', async () => {
      await panel.locator('[data-tab=playground]').click();
      await panel.locator('#gen-prompt textarea').fill('Every effort moves');
      await panel.locator('#gen-maxNewTokens input').fill('12');
      // Record the token count at each change of the output, in the page itself: a fast model streams
      // faster than this test can poll, but each streamed token is its own DOM change.
      type Out = { querySelectorAll(s: string): { length: number }; __counts?: number[] };
      type Win = { MutationObserver: new (cb: () => void) => { observe(e: unknown, o: unknown): void } };
      await panel.locator('#gen-output').evaluate((el: Out) => {
        el.__counts = [];
        new (globalThis as unknown as Win).MutationObserver(() => el.__counts?.push(el.querySelectorAll('.token').length)).observe(el, { childList: true, subtree: true });
      });
      await panel.locator('#gen-start').click();
      await until(page, 60_000, async () => {
        const status = (await panel.locator('#gen-status').textContent()) ?? '';
        if (status.startsWith('Failed')) throw new Error(status);
        return status.startsWith('Done') ? status : undefined;
      }, () => 'generation did not finish within 60 s');
      const counts = [...new Set(await panel.locator('#gen-output').evaluate((el: Out) => el.__counts ?? []))].filter((n) => n > 0);
      const n = counts[counts.length - 1] ?? 0;
      if (n < 2 || n > 12) throw new Error(`expected 2 to 12 generated tokens, got ${n}`);
      // Streamed: the output showed 1, 2, … tokens on the way, not all at once.
      if (counts.length < n || counts.some((c, k) => c !== k + 1)) throw new Error(`tokens did not stream in one by one: counts seen ${JSON.stringify(counts)}`);
      const text = (await panel.locator('#gen-output').textContent()) ?? '';
      if (!text.startsWith('Every effort moves') || text.length <= 'Every effort moves'.length) throw new Error(`output: ${JSON.stringify(text)}`);
      await page.screenshot({ path: join(RESULTS, 'panel-playground.png') });
      return { text, counts };
    });
    console.log(
      `Panel UI test passed in ${((Date.now() - t0) / 1000).toFixed(0)} s: curve point counts ${JSON.stringify(seen)}; ${maps}; ` +
        `playground token counts ${JSON.stringify(generated.counts)}: ${JSON.stringify(generated.text)}. Screenshots in test-results/.`,
    );
  });
}

if (require.main === module) runUiTest(main);
