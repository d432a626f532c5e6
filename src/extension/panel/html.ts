// The lab panel's HTML shell: a strict Content-Security-Policy (no inline script or style, scripts only
// with this load's nonce, styles, fonts and images only from the extension's own files), the bundled
// stylesheet and script, and an empty root the webview fills in. Plain strings, so it is testable in node.
import { randomBytes } from 'node:crypto';

export interface PanelHtmlOptions {
  /** The webview's `cspSource` (the origin its local resources are served from). */
  cspSource: string;
  /** A fresh nonce per load (makeNonce). */
  nonce: string;
  /** URL of dist/webview.js as the webview sees it. */
  scriptUri: string;
  /** URL of dist/webview.css as the webview sees it. */
  styleUri: string;
}

export function makeNonce(): string {
  return randomBytes(16).toString('hex');
}

function attr(v: string): string {
  return v.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function contentSecurityPolicy(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `img-src ${cspSource} data:`,
    `font-src ${cspSource}`,
    `style-src ${cspSource}`,
    `script-src 'nonce-${nonce}'`,
    "connect-src 'none'",
    "frame-src 'none'",
    "form-action 'none'",
    "base-uri 'none'",
  ].join('; ');
}

export function panelHtml(o: PanelHtmlOptions): string {
  if (!/^[A-Za-z0-9+/_-]{16,}={0,2}$/.test(o.nonce)) throw new Error('The panel nonce must be at least 16 base64 characters.');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${attr(contentSecurityPolicy(o.cspSource, o.nonce))}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${attr(o.styleUri)}">
<title>LLM Lab</title>
</head>
<body>
<main id="app" aria-label="LLM Lab"></main>
<script nonce="${attr(o.nonce)}" src="${attr(o.scriptUri)}"></script>
</body>
</html>
`;
}
