// UI test: packages the extension as a .vsix, installs it into a fresh code-server, and drives the real
// workbench in Chromium the way a person would: opens a file, selects all, runs "LLM Lab: Tokenize
// Selection" from the command palette, and checks what is on screen (tokens drawn, the status bar count,
// a token's hover), saving screenshots to test-results/. Exits non-zero on any failure.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { openWorkbench } from './browser';
import { ROOT, ensureCodeServer, installExtension, startCodeServer } from './codeServer';
import { freshWorkspace } from './runIntegration';

const RESULTS = join(ROOT, 'test-results');

/** Builds the .vsix with vsce (no dependencies: esbuild bundled them) into `outDir`. */
export function packageVsix(outDir: string): string {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string };
  const out = join(outDir, `${pkg.name}-${pkg.version}.vsix`);
  execFileSync(process.execPath, [join(ROOT, 'node_modules', '@vscode', 'vsce', 'vsce'), 'package', '--no-dependencies', '--skip-license', '--allow-missing-repository', '-o', out], {
    cwd: ROOT,
    stdio: 'pipe',
  });
  return out;
}

export async function step<T>(what: string, fn: () => Promise<T>): Promise<T> {
  const t0 = Date.now();
  try {
    const v = await fn();
    console.log(`  ✔ ${what} (${Date.now() - t0} ms)`);
    return v;
  } catch (e) {
    console.log(`  ✘ ${what}`);
    throw e;
  }
}

/** The files an extension's output channel was logged to (VS Code writes them under the profile's logs/). */
export function outputChannelLogs(userDataDir: string, channel: string): { file: string; text: string }[] {
  const found: { file: string; text: string }[] = [];
  const walk = (dir: string, depth: number): void => {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const n of names) {
      const p = join(dir, n);
      if (n.endsWith(`${channel}.log`)) found.push({ file: p, text: readFileSync(p, 'utf8') });
      else if (depth < 6 && statSync(p).isDirectory()) walk(p, depth + 1);
    }
  };
  walk(join(userDataDir, 'logs'), 0);
  return found;
}

/** Runs a palette command, retrying while contributions are still arriving. */
export async function runFromPalette(page: Page, title: string): Promise<void> {
  const end = Date.now() + 20_000;
  for (;;) {
    await page.keyboard.press('F1');
    const input = page.locator('.quick-input-widget input');
    await input.waitFor({ state: 'visible', timeout: 5000 });
    await input.fill(`>${title}`);
    const row = page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first();
    try {
      await row.waitFor({ state: 'visible', timeout: 2000 });
      await page.keyboard.press('Enter');
      return;
    } catch {
      await page.keyboard.press('Escape');
      if (Date.now() > end) throw new Error(`"${title}" never showed in the command palette.`);
      await page.waitForTimeout(500);
    }
  }
}

/**
 * One UI session as a person meets it: packages the .vsix, installs it into a fresh code-server over a fresh
 * fixture workspace, opens the workbench in Chromium and waits for it, then runs `body`. On failure it saves
 * `<name>-failure.png` and prints the end of code-server's output; it always closes and cleans up. `prepare`
 * runs on the fresh workspace folder before code-server opens it.
 */
export async function withInstalledWorkbench(
  name: string,
  body: (page: Page) => Promise<void>,
  prepare?: (workspace: string) => Promise<void>,
): Promise<void> {
  ensureCodeServer();
  mkdirSync(RESULTS, { recursive: true });
  const home = mkdtempSync(join(tmpdir(), `llmlab-${name}-`));
  const ws = freshWorkspace();
  if (prepare) await prepare(ws);
  const vsix = await step('package the extension with vsce', async () => packageVsix(home));
  const extensionsDir = join(home, 'extensions');
  await step('install the .vsix into code-server', async () => installExtension(vsix, extensionsDir, join(home, 'user-data')));
  const server = await startCodeServer({ workspace: ws, extensionsDir, home });
  const browser = await openWorkbench(`${server.url}/?folder=${encodeURIComponent(ws)}`);
  const { page } = browser;
  try {
    await step('workbench shows', () => page.locator('.monaco-workbench').waitFor({ timeout: 60_000 }));
    await body(page);
  } catch (e) {
    await page.screenshot({ path: join(RESULTS, `${name}-failure.png`) }).catch(() => undefined);
    console.log('--- code-server output (tail) ---\n' + server.output().slice(-3000));
    for (const log of outputChannelLogs(server.userDataDir, 'LLM Lab')) console.log(`--- ${log.file} (tail) ---\n${log.text.slice(-6000)}`);
    throw e;
  } finally {
    if (process.env.LLM_LAB_UI_LOGS) for (const log of outputChannelLogs(server.userDataDir, 'LLM Lab')) console.log(`--- ${log.file} ---\n${log.text}`);
    await browser.close();
    await server.stop();
    rmSync(home, { recursive: true, force: true });
    rmSync(ws, { recursive: true, force: true });
  }
}

/** Runs a UI test's main when its file is the entry point: exit 0 on success, one error line and exit 1 on failure. */
export function runUiTest(main: () => Promise<void>): void {
  main().then(
    () => process.exit(0),
    (e) => {
      console.error(e instanceof Error ? e.message : e);
      process.exit(1);
    },
  );
}

async function main(): Promise<void> {
  await withInstalledWorkbench('ui', async (page) => {
    await step('open hello.txt with Quick Open', async () => {
      await page.locator('.explorer-folders-view, .monaco-workbench').first().waitFor();
      await page.keyboard.press('Control+P');
      const input = page.locator('.quick-input-widget input');
      await input.waitFor({ state: 'visible' });
      await input.fill('hello.txt');
      await page.locator('.quick-input-list .monaco-list-row', { hasText: 'hello.txt' }).first().waitFor();
      await page.keyboard.press('Enter');
      await page.locator('.monaco-editor .view-lines', { hasText: 'Hello, do you like tea?' }).waitFor();
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
