// UI test: packages the extension as a .vsix, installs it into a fresh code-server, and drives the real
// workbench in Chromium the way a person would: opens a file, selects all, runs "LLM Lab: Tokenize
// Selection" from the command palette, and checks what is on screen (tokens drawn, the status bar count,
// a token's hover), saving screenshots to test-results/. Exits non-zero on any failure.
import { join } from 'node:path';
import { RESULTS, quickOpen, runFromPalette, runUiTest, step, withInstalledWorkbench } from './browser';

// The shared set-up lives in codeServer.ts and browser.ts; the other UI tests import it from here too.
export { outputChannelLogs, packageVsix } from './codeServer';
export { runFromPalette, runUiTest, step, withInstalledWorkbench } from './browser';

async function main(): Promise<void> {
  await withInstalledWorkbench('ui', async (page) => {
    await step('open hello.txt with Quick Open', async () => {
      await page.locator('.explorer-folders-view, .monaco-workbench').first().waitFor();
      await quickOpen(page, 'hello.txt', 'Hello, do you like tea?');
    });
    await step('select all and run LLM Lab: Tokenize Selection from the palette', async () => {
      await page.locator('.monaco-editor .view-lines').first().click();
      await page.keyboard.press('Control+A');
      await runFromPalette(page, 'LLM Lab: Tokenize Selection');
    });
    const drawn = await step('tokens are drawn with alternating backgrounds', async () => {
      // Background decorations render as .cdr overlays; ours carry the token colours set in the manifest.
      const overlays = page.locator('.monaco-editor .view-overlays .cdr');
      type Win = { getComputedStyle(e: unknown): { backgroundColor: string } };
      const end = Date.now() + 30_000;
      for (;;) {
        const colours = await overlays.evaluateAll((els) => [...new Set(els.map((e) => (globalThis as unknown as Win).getComputedStyle(e).backgroundColor))]);
        if (colours.filter((c) => c !== 'rgba(0, 0, 0, 0)').length >= 2) break;
        if (Date.now() > end) throw new Error(`expected two alternating token colours, saw ${JSON.stringify(colours)}`);
        await page.waitForTimeout(250);
      }
      return overlays.count();
    });
    const count = await step('the status bar shows the token count', async () => {
      const item = page.locator('.statusbar-item', { hasText: /tokens/ }).first();
      await item.waitFor({ timeout: 20_000 });
      const text = (await item.innerText()).trim();
      const m = /([\d,]+) tokens/.exec(text);
      if (!m) throw new Error(`status bar says "${text}"`);
      return Number(m[1].replace(/,/g, ''));
    });
    if (drawn < Math.min(count, 10)) throw new Error(`only ${drawn} token overlays drawn for ${count} tokens`);
    await page.screenshot({ path: join(RESULTS, 'tokenize-selection.png') });
    await step('hovering the first token shows its id, text and bytes', async () => {
      const first = page.locator('.monaco-editor .view-line span span', { hasText: 'Hello' }).first();
      const box = await first.boundingBox();
      if (!box) throw new Error('the first word is not on screen');
      await page.mouse.move(box.x + 8, box.y + box.height / 2);
      const hover = page.locator('.monaco-hover', { hasText: 'Token 1 of' });
      await hover.waitFor({ timeout: 15_000 });
      const text = await hover.innerText();
      // GPT-2 encodes "Hello" as 15496 (the book's example); bytes 48 65 6c 6c 6f.
      if (!text.includes('15496') || !text.includes('48 65 6c 6c 6f')) throw new Error(`hover says: ${text}`);
      await page.screenshot({ path: join(RESULTS, 'tokenize-hover.png') });
    });
    await step('LLM Lab: Train Tokenizer on Workspace from the palette shows the compression against GPT-2', async () => {
      await page.keyboard.press('Escape');
      await runFromPalette(page, 'LLM Lab: Train Tokenizer on Workspace');
      const input = page.locator('.quick-input-widget input');
      await page.locator('.quick-input-widget', { hasText: 'files to train the tokenizer on' }).waitFor({ timeout: 10_000 });
      await page.keyboard.press('Enter'); // the default globs
      await page.locator('.quick-input-list .monaco-list-row', { hasText: '1,024' }).first().waitFor({ timeout: 20_000 });
      await input.fill('1,024');
      await page.keyboard.press('Enter');
      await page.locator('.quick-input-list .monaco-list-row', { hasText: 'gpt2' }).first().waitFor({ timeout: 10_000 });
      await page.keyboard.press('Enter');
      const toast = page.locator('.notification-toast', { hasText: 'Trained tokenizer' });
      await toast.waitFor({ timeout: 60_000 });
      const text = await toast.innerText();
      if (!/tokens per character, GPT-2 \d\.\d{3}/.test(text)) throw new Error(`the message says: ${text}`);
      await page.screenshot({ path: join(RESULTS, 'train-tokenizer.png') });
    });
    console.log(`UI test passed: ${count} tokens in the status bar, ${drawn} drawn; screenshots in test-results/.`);
  });
}

if (require.main === module) runUiTest(main);
