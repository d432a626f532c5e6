// Canvas heatmaps of attention weights. A T×T matrix (query row i, key column j) becomes a T×T image
// whose pixel colour runs from the editor background (weight 0) to the theme's hot colour (weight 1),
// then is scaled up with nearest-neighbour sampling so each cell is one flat colour. Cells a causal
// model cannot attend to (j > i, weight 0) are drawn in a mask colour so the triangle is visible.
import type { Rgb } from './theme';
import { mix, parseColor } from './theme';

export interface HeatmapStyle {
  background: Rgb;
  hot: Rgb;
  mask: Rgb;
}

export function maskColor(background: Rgb, maskCss: string): Rgb {
  return mix(background, parseColor(maskCss), 0.35);
}

/** Colour of one cell: the mask colour for a masked position, else the weight's place on the ramp. */
export function cellColor(w: number, i: number, j: number, style: HeatmapStyle): Rgb {
  if (j > i && w === 0) return style.mask;
  return mix(style.background, style.hot, w);
}

/** Renders the matrix into a T×T offscreen canvas, one pixel a cell. */
export function matrixImage(m: ArrayLike<number>, T: number, style: HeatmapStyle): HTMLCanvasElement {
  const c = document.createElement('canvas');
  c.width = T;
  c.height = T;
  const ctx = c.getContext('2d');
  if (!ctx) return c;
  const img = ctx.createImageData(T, T);
  for (let i = 0; i < T; i++) {
    for (let j = 0; j < T; j++) {
      const [r, g, b] = cellColor(m[i * T + j], i, j, style);
      const o = (i * T + j) * 4;
      img.data[o] = r;
      img.data[o + 1] = g;
      img.data[o + 2] = b;
      img.data[o + 3] = 255;
    }
  }
  ctx.putImageData(img, 0, 0);
  return c;
}

/** Draws `image` (from matrixImage) at (x, y) scaled to `size`×`size` CSS pixels, cells kept sharp. */
export function blit(ctx: CanvasRenderingContext2D, image: HTMLCanvasElement, x: number, y: number, size: number): void {
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(image, x, y, size, size);
}

/** Mean over heads of one layer's T×T matrices. */
export function averageHeads(heads: number[][]): Float32Array {
  const n = heads[0]?.length ?? 0;
  const out = new Float32Array(n);
  for (const h of heads) for (let k = 0; k < n; k++) out[k] += h[k];
  for (let k = 0; k < n; k++) out[k] /= heads.length;
  return out;
}

/** A token as an axis label: spaces and line breaks made visible, long ones cut. */
export function tokenLabel(t: string, max = 12): string {
  const s = t.replace(/ /g, '·').replace(/\n/g, '⏎').replace(/\t/g, '⇥');
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}
