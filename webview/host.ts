// The panel's link to the extension host: typed posting, validated receiving, and the webview state
// that VS Code keeps across hiding and reloading (saved at most a few times a second).
import type { FromPanel, FromPanelMessage, ToPanelMessage } from '../src/protocol/panel';
import { fromPanel, parseToPanel } from '../src/protocol/panel';

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}

declare function acquireVsCodeApi(): VsCodeApi;

export class Host {
  private readonly api: VsCodeApi = acquireVsCodeApi();
  private saveTimer: ReturnType<typeof setTimeout> | undefined;
  private pending: (() => unknown) | undefined;

  constructor() {
    window.addEventListener('pagehide', () => this.flush());
  }

  post<K extends keyof FromPanel>(type: K, body: FromPanel[K]): void {
    this.api.postMessage(fromPanel(type, body) satisfies FromPanelMessage);
  }

  /** Delivers each valid host message to `handle`; an invalid one is dropped and reported back. */
  listen(handle: (m: ToPanelMessage) => void): void {
    window.addEventListener('message', (event: MessageEvent) => {
      const parsed = parseToPanel(event.data);
      if (!parsed.ok) {
        console.warn(`LLM Lab panel: ${parsed.error}`);
        this.post('panel/reportInvalid', { reason: parsed.error });
        return;
      }
      handle(parsed.value);
    });
  }

  loadState(): unknown {
    return this.api.getState();
  }

  /** Saves soon; many calls in a burst cost one save. A save still pending when the page goes away is made then. */
  saveState(get: () => unknown, delayMs = 500): void {
    this.pending = get;
    if (this.saveTimer) return;
    this.saveTimer = setTimeout(() => this.flush(), delayMs);
  }

  flush(): void {
    clearTimeout(this.saveTimer);
    this.saveTimer = undefined;
    const get = this.pending;
    this.pending = undefined;
    if (get) this.api.setState(get());
  }
}

let counter = 0;
/** A request id unique within this panel's life. */
export function newRequestId(prefix: string): string {
  counter++;
  return `${prefix}-${Date.now().toString(36)}-${counter}`;
}
