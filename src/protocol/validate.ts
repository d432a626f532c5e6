// Runtime checks for data that crosses a process, frame or file boundary. Each checker takes `unknown` and
// returns the typed value or throws a ProtocolError naming the path that was wrong, so a message is parsed
// once at the edge and typed everywhere after. A shape is written once as a checker and its TypeScript type
// is `Infer<typeof checker>`. Shared by the extension host, the worker and the panel's webview, so it
// imports nothing.

/** A message did not have the shape its type promises. */
export class ProtocolError extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(`${path}: ${message}`);
    this.name = 'ProtocolError';
  }
}

export type Check<T> = (value: unknown, path?: string) => T;
export type Infer<C> = C extends Check<infer T> ? T : never;

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  if (ArrayBuffer.isView(v)) return v.constructor.name;
  return typeof v === 'object' ? 'an object' : `${typeof v} ${JSON.stringify(v)}`.slice(0, 60);
}

/** A string of at most `maxLength` characters. */
export function text(maxLength: number): Check<string> {
  return (v, path = '$') => {
    if (typeof v !== 'string') throw new ProtocolError(path, `expected a string, got ${describe(v)}`);
    if (v.length > maxLength) throw new ProtocolError(path, `string longer than ${maxLength} characters`);
    return v;
  };
}

/** A string of any length. */
export const str: Check<string> = text(Infinity);

export const bool: Check<boolean> = (v, path = '$') => {
  if (typeof v !== 'boolean') throw new ProtocolError(path, `expected true or false, got ${describe(v)}`);
  return v;
};

/** A finite number (NaN and ±Infinity are refused unless `allowNonFinite`). */
export function num(opts: { min?: number; max?: number; allowNonFinite?: boolean } = {}): Check<number> {
  return (v, path = '$') => {
    if (typeof v !== 'number') throw new ProtocolError(path, `expected a number, got ${describe(v)}`);
    if (!opts.allowNonFinite && !Number.isFinite(v)) throw new ProtocolError(path, `expected a finite number, got ${v}`);
    if (opts.min !== undefined && v < opts.min) throw new ProtocolError(path, `expected at least ${opts.min}, got ${v}`);
    if (opts.max !== undefined && v > opts.max) throw new ProtocolError(path, `expected at most ${opts.max}, got ${v}`);
    return v;
  };
}

/** A whole number within optional bounds. */
export function int(opts: { min?: number; max?: number } = {}): Check<number> {
  const n = num(opts);
  return (v, path = '$') => {
    const x = n(v, path);
    if (!Number.isInteger(x)) throw new ProtocolError(path, `expected a whole number, got ${x}`);
    return x;
  };
}

export function literal<const T extends readonly (string | number | boolean)[]>(...values: T): Check<T[number]> {
  return (v, path = '$') => {
    if (!values.includes(v as T[number])) {
      throw new ProtocolError(path, `expected one of ${values.map((x) => JSON.stringify(x)).join(', ')}, got ${describe(v)}`);
    }
    return v as T[number];
  };
}

export function arr<T>(item: Check<T>, opts: { max?: number } = {}): Check<T[]> {
  return (v, path = '$') => {
    if (!Array.isArray(v)) throw new ProtocolError(path, `expected a list, got ${describe(v)}`);
    if (opts.max !== undefined && v.length > opts.max) throw new ProtocolError(path, `expected at most ${opts.max} items, got ${v.length}`);
    return v.map((x, i) => item(x, `${path}[${i}]`));
  };
}

export const float32Array: Check<Float32Array> = (v, path = '$') => {
  if (!(v instanceof Float32Array)) throw new ProtocolError(path, `expected a Float32Array, got ${describe(v)}`);
  return v;
};

/** Marks a property as optional (may be absent or undefined). */
export interface Optional<T> extends Check<T | undefined> {
  readonly optional: true;
}
export function opt<T>(check: Check<T>): Optional<T> {
  const f = ((v: unknown, path = '$') => (v === undefined ? undefined : check(v, path))) as Optional<T>;
  (f as { optional: boolean }).optional = true;
  return f;
}

export type Shape = Record<string, Check<unknown>>;
type RequiredKeys<S extends Shape> = { [K in keyof S]: S[K] extends Optional<unknown> ? never : K }[keyof S];
type OptionalKeys<S extends Shape> = { [K in keyof S]: S[K] extends Optional<unknown> ? K : never }[keyof S];
export type ObjOf<S extends Shape> = { [K in RequiredKeys<S>]: Infer<S[K]> } & {
  [K in OptionalKeys<S>]?: Exclude<Infer<S[K]>, undefined>;
};
type Flat<T> = { [K in keyof T]: T[K] };

/**
 * A plain object with these properties checked. Unknown extra properties are dropped, or refused with
 * `{ extra: 'refuse' }` (for messages from a less trusted side, such as the panel's webview).
 */
export function obj<S extends Shape>(shape: S, opts: { extra?: 'drop' | 'refuse' } = {}): Check<Flat<ObjOf<S>>> {
  const optional = new Set(Object.keys(shape).filter((k) => (shape[k] as Partial<Optional<unknown>>).optional));
  return (v, path = '$') => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) {
      throw new ProtocolError(path, `expected an object, got ${describe(v)}`);
    }
    const src = v as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const [key, check] of Object.entries(shape)) {
      if (src[key] === undefined && !optional.has(key)) throw new ProtocolError(`${path}.${key}`, 'missing');
      const x = check(src[key], `${path}.${key}`);
      if (x !== undefined) out[key] = x;
    }
    if (opts.extra === 'refuse') {
      for (const key of Object.keys(src)) {
        if (!Object.prototype.hasOwnProperty.call(shape, key)) throw new ProtocolError(`${path}.${key}`, 'unexpected field');
      }
    }
    return out as Flat<ObjOf<S>>;
  };
}

/** The named properties of a shape, to build a related shape from the same checkers. */
export function pick<S extends Shape, K extends keyof S>(shape: S, ...keys: K[]): Pick<S, K> {
  const out = {} as Pick<S, K>;
  for (const k of keys) out[k] = shape[k];
  return out;
}

/** A value that is null or passes `check`. */
export function nullable<T>(check: Check<T>): Check<T | null> {
  return (v, path = '$') => (v === null ? null : check(v, path));
}

/** Runs `check`, then a rule across fields of the value it accepted; the rule returns a reason or null. */
export function refine<T>(check: Check<T>, rule: (v: T) => string | null): Check<T> {
  return (v, path = '$') => {
    const x = check(v, path);
    const reason = rule(x);
    if (reason) throw new ProtocolError(path, reason);
    return x;
  };
}

/** Picks a variant by a string tag property. */
export function tagged<K extends string, M extends Record<string, Check<Record<string, unknown>>>>(
  key: K,
  variants: M,
): Check<{ [T in keyof M]: Infer<M[T]> & { [P in K]: T } }[keyof M]> {
  return (v, path = '$') => {
    if (typeof v !== 'object' || v === null) throw new ProtocolError(path, `expected an object, got ${describe(v)}`);
    const tag = (v as Record<string, unknown>)[key];
    if (typeof tag !== 'string' || !Object.prototype.hasOwnProperty.call(variants, tag)) {
      throw new ProtocolError(`${path}.${key}`, `unknown kind ${describe(tag)}`);
    }
    return { ...variants[tag](v, path), [key]: tag } as never;
  };
}

/** A plain object whose every value passes `value` (a map of named numbers, say). */
export function record<T>(value: Check<T>): Check<Record<string, T>> {
  return (v, path = '$') => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ProtocolError(path, `expected an object, got ${describe(v)}`);
    const out: Record<string, T> = {};
    for (const [key, x] of Object.entries(v as Record<string, unknown>)) out[key] = value(x, `${path}.${key}`);
    return out;
  };
}

/** Anything at all; for payloads checked later by their owner. */
export const unknownValue: Check<unknown> = (v) => v;

/** The types of a table of checkers, by key. */
export type InferAll<M extends Record<string, Check<unknown>>> = { [K in keyof M]: Infer<M[K]> };

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

/** Checks a `{ type, body }` envelope against a table of body checkers, one per message type. */
export function parseEnvelope<M extends Record<string, Check<unknown>>>(
  raw: unknown,
  schemas: M,
  side: string,
): Parsed<{ [K in keyof M]: { type: K; body: Infer<M[K]> } }[keyof M]> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { ok: false, error: `${side} message: expected an object with type and body` };
  }
  const r = raw as Record<string, unknown>;
  const type = r.type;
  if (typeof type !== 'string' || !Object.prototype.hasOwnProperty.call(schemas, type)) {
    return { ok: false, error: `${side} message: unknown type ${JSON.stringify(type)}` };
  }
  for (const k of Object.keys(r)) {
    if (k !== 'type' && k !== 'body') return { ok: false, error: `${side} message ${type}: unexpected field ${k}` };
  }
  try {
    return { ok: true, value: { type, body: schemas[type](r.body, `${type}.body`) } as never };
  } catch (e) {
    if (e instanceof ProtocolError) return { ok: false, error: `${side} message ${e.message}` };
    throw e;
  }
}
