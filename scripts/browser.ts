// Test infrastructure: Debian's Chromium driven by playwright-core (which downloads nothing), headless,
// with a fresh profile and XDG folders in a temp dir, pointed at a code-server workbench.
import { chromium } from 'playwright-core';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

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

export type { Browser, Page };
