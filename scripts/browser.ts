// Test infrastructure: Debian's Chromium driven by playwright-core (which downloads nothing), headless,
// with a fresh profile and XDG folders in a temp dir, pointed at a code-server workbench; and what every UI test
// shares: one session over the packaged extension (withInstalledWorkbench), named steps, the command palette and
// Quick Open as a person uses them.
import { chromium } from 'playwright-core';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, ensureCodeServer, freshWorkspace, installExtension, outputChannelLogs, packageVsix, startCodeServer, writeWorkspaceSettings } from './codeServer';

/** Where UI tests save their screenshots. */
export const RESULTS = join(ROOT, 'test-results');

export const CHROMIUM = process.env.LLM_LAB_CHROMIUM ?? '/usr/bin/chromium';

export interface OpenBrowser {
  browser: BrowserContext;
  page: Page;
  close(): Promise<void>;
}

/** Launches Chromium with a throwaway profile and opens `url`. */
export async function openWorkbench(url: string, opts: { viewport?: { width: number; height: number } } = {}): Promise<OpenBrowser> {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium is missing at ${CHROMIUM}: apt-get install -y chromium (npm test does when it runs as root).`);
  const home = mkdtempSync(join(tmpdir(), 'llmlab-chromium-'));
  const env = { ...process.env, HOME: home, XDG_CONFIG_HOME: join(home, 'config'), XDG_CACHE_HOME: join(home, 'cache'), XDG_DATA_HOME: join(home, 'data') };
  const browser = await chromium.launchPersistentContext(join(home, 'profile'), {
    executablePath: CHROMIUM,
    headless: true,
    env,
    viewport: opts.viewport ?? { width: 1400, height: 900 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = browser.pages()[0] ?? (await browser.newPage());
  await page.goto(url);
  return {
    browser,
    page,
    close: async () => {
      await browser.close().catch(() => undefined);
      rmSync(home, { recursive: true, force: true });
    },
  };
}

/** Runs `fn` as one named step of a UI test, printing ✔ with its time or ✘. */
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

/** Opens a workspace file with Quick Open (Ctrl+P) and waits until the editor shows `shows`. */
export async function quickOpen(page: Page, file: string, shows: string): Promise<void> {
  await page.keyboard.press('Control+P');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible' });
  await input.fill(file);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: file }).first().waitFor();
  await page.keyboard.press('Enter');
  await page.locator('.monaco-editor .view-lines', { hasText: shows }).waitFor();
}

export interface WorkbenchSetup {
  /** Runs on the fresh workspace folder before code-server opens it (make files, train a model). */
  prepare?: (workspace: string) => Promise<void>;
  /** Workspace settings added to the fixture's .vscode/settings.json. */
  settings?: Record<string, unknown>;
}

/**
 * One UI session as a person meets it: packages the .vsix, installs it into a fresh code-server over a fresh
 * fixture workspace, opens the workbench in Chromium and waits for it, then runs `body`. On failure it saves
 * `<name>-failure.png` and prints the end of code-server's output and of the LLM Lab output channel; it always
 * closes and cleans up. `setup` is a prepare function (as before) or a WorkbenchSetup.
 */
export async function withInstalledWorkbench(
  name: string,
  body: (page: Page) => Promise<void>,
  setup?: ((workspace: string) => Promise<void>) | WorkbenchSetup,
): Promise<void> {
  const { prepare, settings } = typeof setup === 'function' ? { prepare: setup, settings: undefined } : (setup ?? {});
  ensureCodeServer();
  mkdirSync(RESULTS, { recursive: true });
  const home = mkdtempSync(join(tmpdir(), `llmlab-${name}-`));
  const ws = freshWorkspace();
  if (prepare) await prepare(ws);
  if (settings) writeWorkspaceSettings(ws, settings);
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

export type { Browser, Page };
