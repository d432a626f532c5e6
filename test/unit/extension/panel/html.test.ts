// The panel HTML: a strict CSP with this load's nonce, no inline script or style allowed, and the
// bundle loaded with the nonce.
import * as assert from 'node:assert/strict';
import { contentSecurityPolicy, makeNonce, panelHtml } from '../../../../src/extension/panel/html';

describe('panel html', () => {
  const nonce = 'abcdef0123456789abcdef0123456789';
  const html = panelHtml({ cspSource: 'https://res.example', nonce, scriptUri: 'https://res.example/dist/webview.js', styleUri: 'https://res.example/dist/webview.css' });

  it('sets a CSP that allows scripts only with the nonce and nothing inline or remote', () => {
    const csp = contentSecurityPolicy('https://res.example', nonce);
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, new RegExp(`script-src 'nonce-${nonce}'(;|$)`));
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|\*/);
    assert.ok(html.includes(`content="${csp.replace(/'/g, "'")}"`));
  });

  it('loads the bundle with the nonce and the stylesheet from the resource origin', () => {
    assert.ok(html.includes(`<script nonce="${nonce}" src="https://res.example/dist/webview.js"></script>`));
    assert.ok(html.includes('<link rel="stylesheet" href="https://res.example/dist/webview.css">'));
    assert.equal((html.match(/<script/g) ?? []).length, 1);
  });

  it('escapes resource URLs and refuses a weak nonce', () => {
    const h = panelHtml({ cspSource: 'x', nonce, scriptUri: 'a"><script>', styleUri: 's' });
    assert.ok(h.includes('src="a&quot;&gt;&lt;script&gt;"'));
    assert.throws(() => panelHtml({ cspSource: 'x', nonce: 'short', scriptUri: 's', styleUri: 's' }), /nonce/);
  });

  it('makes a fresh nonce each time', () => {
    const a = makeNonce();
    assert.match(a, /^[0-9a-f]{32}$/);
    assert.notEqual(a, makeNonce());
  });
});
