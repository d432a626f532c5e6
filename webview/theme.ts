// VS Code theme colours for canvas drawing: the editor sets `--vscode-*` CSS variables on the panel's
// body (light, dark and high-contrast themes), and charts and heatmaps read them here.

export type Rgb = [number, number, number];

export function cssVar(name: string, fallback: string): string {
  const v = getComputedStyle(document.body).getPropertyValue(name).trim();
  return v || fallback;
}

/** Parses "#rgb", "#rrggbb", "#rrggbbaa" or "rgb(a)(r, g, b…)" into 0–255 channels. */
export function parseColor(c: string): Rgb {
  const s = c.trim();
  if (s.startsWith('#')) {
    const hex = s.slice(1);
    const full = hex.length <= 4 ? [...hex.slice(0, 3)].map((d) => d + d).join('') : hex.slice(0, 6);
    const n = parseInt(full, 16);
    if (Number.isFinite(n)) return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
  }
  const m = /rgba?\(([^)]+)\)/.exec(s);
  if (m) {
    const parts = m[1].split(/[\s,/]+/).filter(Boolean).map(Number);
    if (parts.length >= 3) return [parts[0], parts[1], parts[2]];
  }
  return [128, 128, 128];
}

/** Linear mix of two colours: t = 0 gives `a`, t = 1 gives `b`. */
export function mix(a: Rgb, b: Rgb, t: number): Rgb {
  const k = Math.min(1, Math.max(0, t));
  return [0, 1, 2].map((i) => Math.round(a[i] + (b[i] - a[i]) * k)) as Rgb;
}

export function rgb(c: Rgb): string {
  return `rgb(${c[0]}, ${c[1]}, ${c[2]})`;
}

export interface Palette {
  background: Rgb;
  foreground: string;
  muted: string;
  grid: string;
  /** The colour of weight 1 in a heatmap. */
  hot: Rgb;
  /** Hatching for the causal mask. */
  mask: string;
  focus: string;
  /** One colour per run in the charts. */
  series: string[];
}

export function readPalette(): Palette {
  const fg = cssVar('--vscode-foreground', '#cccccc');
  return {
    background: parseColor(cssVar('--vscode-editor-background', '#1e1e1e')),
    foreground: fg,
    muted: cssVar('--vscode-descriptionForeground', fg),
    grid: cssVar('--vscode-editorWidget-border', cssVar('--vscode-panel-border', '#80808040')),
    hot: parseColor(cssVar('--vscode-charts-orange', '#d18616')),
    mask: cssVar('--vscode-disabledForeground', '#808080'),
    focus: cssVar('--vscode-focusBorder', '#007fd4'),
    series: ['blue', 'orange', 'green', 'purple', 'red', 'yellow'].map((n, i) =>
      cssVar(`--vscode-charts-${n}`, ['#3794ff', '#d18616', '#89d185', '#b180d7', '#f14c4c', '#cca700'][i]),
    ),
  };
}

/** Calls `cb` when the editor switches theme (it changes the body's class). */
export function onThemeChange(cb: () => void): void {
  new MutationObserver(cb).observe(document.body, { attributes: true, attributeFilter: ['class'] });
}
