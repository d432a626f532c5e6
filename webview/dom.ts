// Small DOM helpers for the lab panel: build elements without innerHTML (so text from a model or a
// file can never become markup) and without style attributes (the panel's CSP refuses those).

type Attrs = Record<string, string | number | boolean | undefined>;
type Child = Node | string | null | undefined | false;

/** Creates `<tag>` with attributes (false/undefined are skipped, true sets an empty attribute) and children. */
export function el<T extends HTMLElement = HTMLElement>(tag: string, attrs: Attrs = {}, ...children: Child[]): T {
  const e = document.createElement(tag) as T;
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (k === 'style') throw new Error('Inline style attributes are refused by the panel CSP; use a class.');
    e.setAttribute(k, v === true ? '' : String(v));
  }
  append(e, ...children);
  return e;
}

export function append(parent: Node, ...children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    parent.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
  }
}

export function clear(e: Element): void {
  while (e.firstChild) e.removeChild(e.firstChild);
}

/** The value of a vscode-elements field or a native input, as text. */
export function valueOf(e: Element): string {
  return String((e as HTMLInputElement).value ?? '');
}

export function setValue(e: Element, v: string | number): void {
  (e as HTMLInputElement).value = String(v);
}

/** A labelled text field; `name` becomes the id so tests and screen readers can find it. */
export function field(id: string, label: string, value: string | number, type = 'text'): { row: HTMLElement; input: HTMLElement } {
  const input = el('vscode-textfield', { id, type, value: String(value), 'aria-label': label });
  const row = el('div', { class: 'field' }, el('vscode-label', { for: id }, label), input);
  return { row, input };
}

export function button(id: string, text: string, onClick: () => void, secondary = false): HTMLElement {
  const b = el('vscode-button', { id, secondary });
  b.textContent = text;
  b.addEventListener('click', () => {
    if (!b.hasAttribute('disabled')) onClick();
  });
  return b;
}

export function setDisabled(e: Element, disabled: boolean): void {
  e.toggleAttribute('disabled', disabled);
}

/** Shows a number compactly: 12345 → "12,345"; 0.000123 → "1.230e-4". */
export function fmt(v: number, digits = 4): string {
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v)) return v.toLocaleString('en-US');
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e6) ? v.toExponential(3) : v.toFixed(digits);
}
