// The lab panel in Chromium under other themes: heatmap colours follow the light and high-contrast
// themes, and the panel redraws when the editor switches theme while it is open.
import { T, hex, near, ramp, tokens, weights } from './fixtures';
import { DARK, showAttention, usePanelBrowser } from './harness';

describe('lab panel themes in Chromium', function () {
  this.timeout(60_000);
  const panel = usePanelBrowser();

  it('draws with the light and high-contrast theme colours', async () => {
    const light = { ...DARK, '--vscode-editor-background': '#ffffff', '--vscode-foreground': '#3b3b3b', '--vscode-charts-orange': '#d18616' };
    for (const [name, theme, cls] of [['light', light, 'vscode-light'], ['high-contrast', { ...DARK, '--vscode-editor-background': '#000000', '--vscode-charts-orange': '#ffa500' }, 'vscode-high-contrast']] as const) {
      const p = await panel.open({ theme, bodyClass: cls });
      await showAttention(p, 'x', { tokens, weights });
      const cell = Number(await p.page.getAttribute('#attn-big', 'data-cell'));
      const o = Number(await p.page.getAttribute('#attn-big', 'data-origin'));
      const expected = ramp(hex(theme['--vscode-editor-background']), hex(theme['--vscode-charts-orange']), weights[0][0][0]);
      near(await p.pixel('#attn-big', o + cell / 2, o + cell / 2), expected, `${name} cell (0, 0)`);
      await p.screenshot(`attention-${name}`);
      await p.page.close();
    }
  });

  it('redraws in the new colours when the editor switches theme', async () => {
    const p = await panel.open();
    await showAttention(p, 'x', { tokens, weights });
    const cell = Number(await p.page.getAttribute('#attn-big', 'data-cell'));
    const o = Number(await p.page.getAttribute('#attn-big', 'data-origin'));
    const w = weights[0][0][2 * T + 1];
    near(await p.pixel('#attn-big', o + 1.5 * cell, o + 2.5 * cell), ramp(hex(DARK['--vscode-editor-background']), hex(DARK['--vscode-charts-orange']), w), 'dark cell (2, 1)');
    // VS Code changes the variables and the body class together.
    await p.page.evaluate(() => {
      const d = (globalThis as unknown as { document: { documentElement: { style: { setProperty(k: string, v: string): void } }; body: { className: string } } }).document;
      d.documentElement.style.setProperty('--vscode-editor-background', '#fffffe');
      d.documentElement.style.setProperty('--vscode-charts-orange', '#0000ff');
      d.body.className = 'vscode-light';
    });
    // The theme observer is a MutationObserver: it has run (a microtask) before the next evaluate.
    near(await p.pixel('#attn-big', o + 1.5 * cell, o + 2.5 * cell), ramp(hex('#fffffe'), hex('#0000ff'), w), 'light cell (2, 1)');
    await p.page.close();
  });
});
