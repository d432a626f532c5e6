// Small runtime checks for messages that cross a process or frame boundary. Each checker takes `unknown`
// and returns the typed value or throws a ProtocolError naming the path that was wrong, so a message is
// parsed once at the edge and typed everywhere after. `Infer<typeof check>` gives the TypeScript type.

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
  if (Array.isArray(v)) return 'an array';
  if (ArrayBuffer.isView(v)) return v.constructor.name;
  return typeof v === 'object' ? 'an object' : `${typeof v} ${JSON.stringify(v)}`.slice(0, 60);
}

export const str: Check<string> = (v, path = '$') => {
  if (typeof v !== 'string') throw new ProtocolError(path, `expected a string, got ${describe(v)}`);
  return v;
};

export const bool: Check<boolean> = (v, path = '$') => {
  if (typeof v !== 'boolean') throw new ProtocolError(path, `expected a boolean, got ${describe(v)}`);
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
    if (!Array.isArray(v)) throw new ProtocolError(path, `expected an array, got ${describe(v)}`);
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

type Shape = Record<string, Check<unknown>>;
type RequiredKeys<S extends Shape> = { [K in keyof S]: S[K] extends Optional<unknown> ? never : K }[keyof S];
type OptionalKeys<S extends Shape> = { [K in keyof S]: S[K] extends Optional<unknown> ? K : never }[keyof S];
export type ObjOf<S extends Shape> = { [K in RequiredKeys<S>]: Infer<S[K]> } & {
  [K in OptionalKeys<S>]?: Exclude<Infer<S[K]>, undefined>;
};
type Flat<T> = { [K in keyof T]: T[K] };

/** A plain object with exactly these properties checked; unknown extra properties are dropped. */
export function obj<S extends Shape>(shape: S): Check<Flat<ObjOf<S>>> {
  return (v, path = '$') => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) {
      throw new ProtocolError(path, `expected an object, got ${describe(v)}`);
    }
    const src = v as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const [key, check] of Object.entries(shape)) {
      const x = check(src[key], `${path}.${key}`);
      if (x !== undefined) out[key] = x;
    }
    return out as Flat<ObjOf<S>>;
  };
}

/** A value that is null or passes `check`. */
export function nullable<T>(check: Check<T>): Check<T | null> {
  return (v, path = '$') => (v === null ? null : check(v, path));
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
