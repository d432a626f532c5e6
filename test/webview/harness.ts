// Test harness for the lab panel bundle in real Chromium: serves the panel HTML (the same strict CSP the
// extension uses) and dist/webview.{js,css} from 127.0.0.1, fakes the VS Code webview API and theme
// variables with an init script, and gives tests helpers to play host messages and read what the
// panel sent, saved, drew and reported.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { join, resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { chromium } from 'playwright-core';
import { panelHtml } from '../../src/extension/panel/html';

export const ROOT = resolve(__dirname, '..', '..', '..');
export const RESULTS = join(ROOT, 'test-results');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const NONCE = '0123456789abcdef0123456789abcdef';

/** The dark theme's colours as VS Code would set them. */
export const DARK = {
  '--vscode-editor-background': '#1e1e1e',
  '--vscode-foreground': '#cccccc',
  '--vscode-descriptionForeground': '#9d9d9d',
  '--vscode-charts-orange': '#d18616',
  '--vscode-charts-blue': '#3794ff',
  '--vscode-charts-green': '#89d185',
  '--vscode-disabledForeground': '#808080',
  '--vscode-focusBorder': '#007fd4',
  '--vscode-font-family': 'sans-serif',
  '--vscode-font-size': '13px',
  '--vscode-editor-font-family': 'monospace',
  '--vscode-input-background': '#3c3c3c',
  '--vscode-editorWidget-border': '#454545',
  '--vscode-editorHoverWidget-background': '#252526',
  '--vscode-editorHoverWidget-foreground': '#cccccc',
  '--vscode-editorHoverWidget-border': '#454545',
};

export function startServer(): Promise<{ server: Server; origin: string }> {
  const files: Record<string, [string, string]> = {
    '/dist/webview.js': ['dist/webview.js', 'text/javascript'],
    '/dist/webview.css': ['dist/webview.css', 'text/css'],
  };
  for (const [f] of Object.values(files)) {
    if (!existsSync(join(ROOT, f))) throw new Error(`${f} is missing: run "node esbuild.mjs" first (npm run test:webview does).`);
  }
  return new Promise((ok) => {
    const server = createServer((req, res) => {
      const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const url = (req.url ?? '/').split('?')[0];
      if (url === '/') {
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end(panelHtml({ cspSource: origin, nonce: NONCE, scriptUri: `${origin}/dist/webview.js`, styleUri: `${origin}/dist/webview.css` }));
        return;
      }
      const f = files[url];
      if (!f) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': f[1] });
      res.end(readFileSync(join(ROOT, f[0])));
    });
    server.listen(0, '127.0.0.1', () => ok({ server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }));
  });
}

export async function launch(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium not found at ${CHROMIUM}: install it with "apt-get install -y chromium" (npm test does when it runs as root) or set CHROMIUM_PATH.`);
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** Runs in the page before any of its scripts: the fake VS Code API, theme and CSP-violation log. */
function initScript(arg: { state: unknown; theme: Record<string, string>; bodyClass: string }): void {
  interface El {
    style: { setProperty(k: string, v: string): void };
    classList: { add(c: string): void };
  }
  interface Doc {
    documentElement: El | null;
    body: El | null;
    addEventListener(t: string, f: (e: { violatedDirective: string; blockedURI: string }) => void): void;
  }
  const w = globalThis as unknown as Record<string, unknown> & {
    document: Doc;
    MutationObserver: new (cb: () => void) => { observe(n: unknown, o: unknown): void; disconnect(): void };
  };
  const sent: unknown[] = [];
  const errors: string[] = [];
  let state = arg.state;
  w.__sent = sent;
  w.__cspViolations = errors;
  w.__getState = () => state;
  w.acquireVsCodeApi = () => ({
    postMessage: (m: unknown) => sent.push(JSON.parse(JSON.stringify(m))),
    getState: () => state,
    setState: (s: unknown) => (state = JSON.parse(JSON.stringify(s))),
  });
  const settlers: Record<string, () => void> = {};
  w.__settlers = settlers;
  (w as unknown as { addEventListener(t: string, f: (e: { data: unknown; stopImmediatePropagation(): void }) => void): void }).addEventListener('message', (e) => {
    if (typeof e.data === 'string' && settlers[e.data]) {
      e.stopImmediatePropagation();
      const done = settlers[e.data];
      delete settlers[e.data];
      setTimeout(done, 0);
    }
  });
  w.document.addEventListener('securitypolicyviolation', (e) => errors.push(`${e.violatedDirective} ${e.blockedURI}`));
  // Like VS Code, put the theme variables on <html> and the theme class on <body> as soon as they exist.
  let themed = false;
  const apply = (): boolean => {
    const d = w.document;
    if (!themed && d.documentElement) {
      for (const [k, v] of Object.entries(arg.theme)) d.documentElement.style.setProperty(k, v);
      themed = true;
    }
    if (d.body) d.body.classList.add(arg.bodyClass);
    return themed && d.body !== null;
  };
  if (!apply()) {
    const obs = new w.MutationObserver(() => apply() && obs.disconnect());
    obs.observe(w.document, { childList: true, subtree: true });
  }
}

/** The page's globals as tests read them (this build has no DOM types; a cast, compiled away). */
export interface PageWindow {
  __sent: Array<{ type: string; body: Record<string, unknown> }>;
  __getState(): unknown;
  document: { querySelector(s: string): { dataset: Record<string, string | undefined> } | null };
  postMessage(m: unknown, o: string): void;
  __settlers: Record<string, () => void>;
}

/**
 * Posts host messages to the panel as VS Code does, and resolves once the panel has handled them: a
 * sentinel posted after them arrives after they were dispatched, and the init script's listener (added
 * before the panel's) catches it so the panel never sees it.
 */
async function postAndSettle(page: Page, messages: unknown[]): Promise<void> {
  await page.evaluate(
    (ms) =>
      new Promise<void>((done) => {
        const w = globalThis as unknown as PageWindow;
        const sentinel = `__settle-${Math.random()}`;
        w.__settlers[sentinel] = done;
        for (const m of ms) w.postMessage(m, '*');
        w.postMessage(sentinel, '*');
      }),
    messages,
  );
}

export interface PanelPage {
  page: Page;
  /** Posts a host message to the panel and waits until the panel handled it. */
  post(message: unknown): Promise<void>;
  postAll(messages: unknown[]): Promise<void>;
  /** Everything the panel posted to the host so far. */
  sent(): Promise<Array<{ type: string; body: Record<string, unknown> }>>;
  /** The last state the panel saved with setState. */
  state(): Promise<unknown>;
  cspViolations(): Promise<string[]>;
  /** RGB at (x, y) of a canvas, in canvas pixels. */
  pixel(selector: string, x: number, y: number): Promise<[number, number, number]>;
  screenshot(name: string): Promise<void>;
}

export async function openPanel(browser: Browser, origin: string, opts: { state?: unknown; theme?: Record<string, string>; bodyClass?: string } = {}): Promise<PanelPage> {
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 }, deviceScaleFactor: 1 });
  page.setDefaultTimeout(5000);
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  await page.addInitScript(initScript, { state: opts.state ?? null, theme: opts.theme ?? DARK, bodyClass: opts.bodyClass ?? 'vscode-dark' });
  await page.goto(`${origin}/`);
  await page.waitForFunction(() => (globalThis as unknown as PageWindow).__sent.some((m) => m.type === 'ready'));
  if (pageErrors.length) throw new Error(`The panel threw: ${pageErrors.join('; ')}`);
  return {
    page,
    post: (m) => postAndSettle(page, [m]),
    postAll: (ms) => postAndSettle(page, ms),
    sent: () => page.evaluate('window.__sent') as Promise<Array<{ type: string; body: Record<string, unknown> }>>,
    state: () => page.evaluate('window.__getState()'),
    cspViolations: () => page.evaluate('window.__cspViolations') as Promise<string[]>,
    pixel: (selector, x, y) =>
      page.evaluate(
        ([s, px, py]) => {
          const d = globalThis as unknown as { document: { querySelector(s: string): { getContext(k: string): { getImageData(x: number, y: number, w: number, h: number): { data: ArrayLike<number> } } } } };
          const data = d.document.querySelector(s as string).getContext('2d').getImageData(px as number, py as number, 1, 1).data;
          return [data[0], data[1], data[2]] as [number, number, number];
        },
        [selector, x, y] as const,
      ),
    screenshot: async (name) => {
      mkdirSync(RESULTS, { recursive: true });
      await page.screenshot({ path: join(RESULTS, `${name}.png`), fullPage: true });
    },
  };
}

/**
 * Starts the panel's server and one Chromium for the enclosing mocha suite (closed after it); `open` gives a fresh
 * panel page with the options of openPanel.
 */
export function usePanelBrowser(): { open(opts?: Parameters<typeof openPanel>[2]): Promise<PanelPage> } {
  let server: Server | undefined;
  let origin = '';
  let browser: Browser | undefined;
  before(async () => {
    ({ server, origin } = await startServer());
    browser = await launch();
  });
  after(async () => {
    await browser?.close();
    server?.close();
  });
  return {
    open: (opts) => {
      if (!browser) throw new Error('usePanelBrowser: the suite has not started Chromium');
      return openPanel(browser, origin, opts);
    },
  };
}

/**
 * Asks for the attention maps of `text` from the Attention tab and answers with `maps`, as the host would; resolves
 * with the panel's request once the big heatmap is drawn.
 */
export async function showAttention(p: PanelPage, text: string, maps: { tokens: unknown; weights: unknown }): Promise<{ type: string; body: Record<string, unknown> }> {
  await p.page.click('[data-tab=attention]');
  await p.page.locator('#attn-text textarea').fill(text);
  await p.page.click('#attn-show');
  const req = (await p.sent()).find((m) => m.type === 'attention/request');
  if (!req) throw new Error('the panel did not ask the host for attention maps');
  await p.post({ type: 'attention/didCompute', body: { requestId: req.body.requestId, ...maps } });
  await p.page.waitForFunction(() => (globalThis as unknown as PageWindow).document.querySelector('#attn-big')?.dataset.cell);
  return req;
}
