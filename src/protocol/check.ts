// A tiny validator for messages that cross a process or frame boundary: each check takes an `unknown`
// and returns null when it fits or a short reason naming the path that does not. Shared by the panel's
// host and its webview, so it imports nothing.

/** null when `v` fits, else a reason such as "body.tokens[3]: expected a string". */
export type Check = (v: unknown, path: string) => string | null;

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

export function str(maxLength = 1_000_000): Check {
  return (v, p) =>
    typeof v !== 'string'
      ? `${p}: expected a string`
      : v.length > maxLength
        ? `${p}: string longer than ${maxLength} characters`
        : null;
}

export function num(opts: { min?: number; max?: number; int?: boolean } = {}): Check {
  return (v, p) => {
    if (typeof v !== 'number' || !Number.isFinite(v)) return `${p}: expected a finite number`;
    if (opts.int && !Number.isInteger(v)) return `${p}: expected a whole number`;
    if (opts.min !== undefined && v < opts.min) return `${p}: ${v} is below ${opts.min}`;
    if (opts.max !== undefined && v > opts.max) return `${p}: ${v} is above ${opts.max}`;
    return null;
  };
}

export const bool: Check = (v, p) => (typeof v === 'boolean' ? null : `${p}: expected true or false`);

export function literal(...values: readonly (string | number)[]): Check {
  return (v, p) =>
    values.includes(v as string | number) ? null : `${p}: expected one of ${values.map(String).join(', ')}`;
}

export function nullable(inner: Check): Check {
  return (v, p) => (v === null ? null : inner(v, p));
}

export function arr(item: Check, maxLength = 1_000_000): Check {
  return (v, p) => {
    if (!Array.isArray(v)) return `${p}: expected a list`;
    if (v.length > maxLength) return `${p}: list longer than ${maxLength}`;
    for (let i = 0; i < v.length; i++) {
      const e = item(v[i], `${p}[${i}]`);
      if (e) return e;
    }
    return null;
  };
}

/** An object with exactly these keys; keys in `optional` may be missing or undefined. Extra keys are refused. */
export function obj(required: Record<string, Check>, optional: Record<string, Check> = {}): Check {
  return (v, p) => {
    if (!isRecord(v)) return `${p}: expected an object`;
    for (const [k, c] of Object.entries(required)) {
      if (v[k] === undefined) return `${p}.${k}: missing`;
      const e = c(v[k], `${p}.${k}`);
      if (e) return e;
    }
    for (const [k, c] of Object.entries(optional)) {
      if (v[k] === undefined) continue;
      const e = c(v[k], `${p}.${k}`);
      if (e) return e;
    }
    for (const k of Object.keys(v)) {
      if (!(k in required) && !(k in optional)) return `${p}.${k}: unexpected field`;
    }
    return null;
  };
}

/** Runs `base`, then a cross-field rule on the value it accepted. */
export function refine(base: Check, rule: (v: never, p: string) => string | null): Check {
  return (v, p) => base(v, p) ?? rule(v as never, p);
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

/** Validates a `{ type, body }` envelope against a table of body checks, one per message type. */
export function parseEnvelope<T>(raw: unknown, schemas: Record<string, Check>, side: string): Parsed<T> {
  if (!isRecord(raw)) return { ok: false, error: `${side} message: expected an object with type and body` };
  const type = raw.type;
  if (typeof type !== 'string' || !Object.prototype.hasOwnProperty.call(schemas, type)) {
    return { ok: false, error: `${side} message: unknown type ${JSON.stringify(type)}` };
  }
  for (const k of Object.keys(raw)) {
    if (k !== 'type' && k !== 'body') return { ok: false, error: `${side} message ${type}: unexpected field ${k}` };
  }
  const error = schemas[type](raw.body, `${type}.body`);
  return error ? { ok: false, error: `${side} message ${error}` } : { ok: true, value: raw as T };
}
