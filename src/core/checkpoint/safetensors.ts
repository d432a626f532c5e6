// A reader and writer of the safetensors format (the Hugging Face weight file): an 8-byte little-endian header
// length N, N bytes of JSON naming each tensor's dtype, shape and byte range in the data section that follows,
// plus an optional string map `__metadata__`. Reading checks every range against the file size and converts
// float16 / bfloat16 / float64 tensors to float32; tensors are read one at a time, so a large file is never
// held whole in memory.
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LlmLabError } from '../errors';
import { writeFileAtomic } from './atomic';

/** Byte size of every dtype the format defines; others are rejected as unknown. */
const DTYPE_BYTES: Record<string, number> = {
  F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U64: 8, U32: 4, U16: 2, U8: 1, BOOL: 1,
  F8_E4M3: 1, F8_E5M2: 1,
};
/** The dtypes read as float32 values. */
const FLOAT_DTYPES = new Set(['F64', 'F32', 'F16', 'BF16']);

export interface TensorEntry {
  dtype: string;
  shape: number[];
  /** Byte range [begin, end) within the data section (after the header). */
  dataOffsets: [number, number];
}

export interface SafetensorsHeader {
  tensors: Map<string, TensorEntry>;
  metadata: Record<string, string>;
  /** File offset where the data section starts (8 + header length). */
  dataStart: number;
}

function bad(file: string, problem: string, todo = 'save or download the checkpoint again'): LlmLabError {
  return new LlmLabError('bad-checkpoint', `${file}: ${problem}; ${todo}.`);
}

const MAX_HEADER_BYTES = 100 * 1024 * 1024;

/** Parses and validates the header of a safetensors file: JSON, known dtypes, ranges inside the file. */
export async function readSafetensorsHeader(file: string): Promise<SafetensorsHeader> {
  let handle: fsp.FileHandle;
  try {
    handle = await fsp.open(file, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new LlmLabError('bad-checkpoint', `${file} is missing; the folder is not a complete checkpoint.`);
    throw new LlmLabError('io', `Cannot read ${file}: ${(e as Error).message}`);
  }
  try {
    const size = (await handle.stat()).size;
    if (size < 8) throw bad(file, `is truncated (${size} bytes, shorter than the 8-byte header length)`);
    const lenBuf = Buffer.alloc(8);
    await handle.read(lenBuf, 0, 8, 0);
    const headerLen = Number(lenBuf.readBigUInt64LE(0));
    if (headerLen > MAX_HEADER_BYTES || 8 + headerLen > size) {
      throw bad(file, `is truncated or not a safetensors file (header length ${headerLen} but the file has ${size} bytes)`);
    }
    const headerBuf = Buffer.alloc(headerLen);
    await handle.read(headerBuf, 0, headerLen, 8);
    let json: unknown;
    try {
      json = JSON.parse(headerBuf.toString('utf8'));
    } catch {
      throw bad(file, 'has a header that is not valid JSON (not a safetensors file, or corrupted)');
    }
    if (typeof json !== 'object' || json === null || Array.isArray(json)) {
      throw bad(file, 'has a header that is not a JSON object');
    }
    const dataStart = 8 + headerLen;
    const dataSize = size - dataStart;
    const tensors = new Map<string, TensorEntry>();
    let metadata: Record<string, string> = {};
    for (const [name, raw] of Object.entries(json as Record<string, unknown>)) {
      if (name === '__metadata__') {
        if (raw && typeof raw === 'object') metadata = raw as Record<string, string>;
        continue;
      }
      tensors.set(name, parseEntry(file, name, raw, dataSize));
    }
    checkNoOverlap(file, tensors);
    return { tensors, metadata, dataStart };
  } finally {
    await handle.close();
  }
}

function parseEntry(file: string, name: string, raw: unknown, dataSize: number): TensorEntry {
  const e = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
  if (!e || typeof e !== 'object') throw bad(file, `tensor '${name}' has no description in the header`);
  const dtype = String(e.dtype);
  const width = Object.hasOwn(DTYPE_BYTES, dtype) ? DTYPE_BYTES[dtype] : undefined; // not 'constructor' and the like
  if (width === undefined) {
    throw bad(file, `tensor '${name}' has unknown dtype '${dtype}' (known: ${Object.keys(DTYPE_BYTES).join(', ')})`,
      'convert the weights to float32, float16 or bfloat16');
  }
  const shape = e.shape;
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw bad(file, `tensor '${name}' has an invalid shape ${JSON.stringify(shape)}`);
  }
  const offs = e.data_offsets;
  if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((o) => Number.isInteger(o) && o >= 0) || offs[1] < offs[0]) {
    throw bad(file, `tensor '${name}' has invalid data_offsets ${JSON.stringify(offs)}`);
  }
  const [begin, end] = offs as [number, number];
  if (end > dataSize) {
    throw bad(file, `is truncated: tensor '${name}' ends at byte ${end} of the data but the data has ${dataSize} bytes`);
  }
  const count = (shape as number[]).reduce((a, b) => a * b, 1);
  if (count * width !== end - begin) {
    throw bad(file, `tensor '${name}' (${dtype} [${shape}]) needs ${count * width} bytes but its range holds ${end - begin}`);
  }
  return { dtype, shape: shape as number[], dataOffsets: [begin, end] };
}

/** Two tensors whose byte ranges overlap would share (and silently alias) data: refused, as the format forbids. */
function checkNoOverlap(file: string, tensors: Map<string, TensorEntry>): void {
  const ranges = [...tensors].filter(([, e]) => e.dataOffsets[1] > e.dataOffsets[0]).sort(([, a], [, b]) => a.dataOffsets[0] - b.dataOffsets[0]);
  for (let i = 1; i < ranges.length; i++) {
    const [prevName, prev] = ranges[i - 1];
    const [name, e] = ranges[i];
    if (e.dataOffsets[0] < prev.dataOffsets[1]) {
      throw bad(file, `tensors '${prevName}' [${prev.dataOffsets}] and '${name}' [${e.dataOffsets}] overlap in the data section (a corrupted or hand-edited file)`);
    }
  }
}

/** float16 bits → float32 value. */
function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24; // subnormal or zero
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** Converts raw little-endian bytes of a float dtype into float32 values. */
export function toFloat32(dtype: string, bytes: Buffer): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (dtype) {
    case 'F32': {
      const out = new Float32Array(bytes.byteLength / 4);
      if (os.endianness() === 'LE') new Uint8Array(out.buffer).set(bytes);
      else for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(4 * i, true);
      return out;
    }
    case 'F16': {
      const out = new Float32Array(bytes.byteLength / 2);
      for (let i = 0; i < out.length; i++) out[i] = halfToFloat(view.getUint16(2 * i, true));
      return out;
    }
    case 'BF16': {
      const out = new Float32Array(bytes.byteLength / 2);
      const bits = new Uint32Array(out.buffer);
      for (let i = 0; i < out.length; i++) bits[i] = view.getUint16(2 * i, true) << 16; // bf16 is the top half of a float32
      return out;
    }
    case 'F64': {
      const out = new Float32Array(bytes.byteLength / 8);
      for (let i = 0; i < out.length; i++) out[i] = view.getFloat64(8 * i, true);
      return out;
    }
    default:
      throw new Error(`not a float dtype: ${dtype}`);
  }
}

export interface LoadedTensor {
  shape: number[];
  /** The source dtype before conversion. */
  dtype: string;
  data: Float32Array;
}

/**
 * Reads the named tensors (all when `names` is omitted) as float32. `select` may map a stored name to the name
 * to keep, or to undefined to skip it (used to drop prefixes and buffers).
 */
export async function readSafetensors(
  file: string,
  select: (name: string, entry: TensorEntry) => string | undefined = (n) => n,
): Promise<{ tensors: Map<string, LoadedTensor>; metadata: Record<string, string> }> {
  const header = await readSafetensorsHeader(file);
  const tensors = new Map<string, LoadedTensor>();
  const handle = await fsp.open(file, 'r');
  try {
    for (const [stored, entry] of header.tensors) {
      const name = select(stored, entry);
      if (name === undefined) continue;
      if (!FLOAT_DTYPES.has(entry.dtype)) {
        throw bad(file, `tensor '${stored}' has dtype ${entry.dtype} but weights must be float32, float16 or bfloat16`,
          'convert the weights to a float dtype');
      }
      const [begin, end] = entry.dataOffsets;
      const bytes = Buffer.alloc(end - begin);
      const { bytesRead } = await handle.read(bytes, 0, bytes.length, header.dataStart + begin);
      if (bytesRead !== bytes.length) throw bad(file, `is truncated inside tensor '${stored}'`);
      tensors.set(name, { shape: entry.shape, dtype: entry.dtype, data: toFloat32(entry.dtype, bytes) });
    }
  } finally {
    await handle.close();
  }
  return { tensors, metadata: header.metadata };
}

export interface TensorToWrite {
  name: string;
  shape: number[];
  data: Float32Array;
}

/** The header bytes of a float32 safetensors file, padded with spaces to 8-byte alignment. */
export function encodeHeader(tensors: readonly TensorToWrite[], metadata: Record<string, string>): Buffer {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const t of tensors) {
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (count !== t.data.length) throw new Error(`tensor ${t.name}: shape [${t.shape}] holds ${count} values, got ${t.data.length}`);
    header[t.name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + 4 * count] };
    offset += 4 * count;
  }
  let json = JSON.stringify(header);
  const pad = (8 - ((8 + Buffer.byteLength(json)) % 8)) % 8;
  json += ' '.repeat(pad);
  const body = Buffer.from(json, 'utf8');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(body.length), 0);
  return Buffer.concat([len, body]);
}

function littleEndianBytes(data: Float32Array): Buffer {
  if (os.endianness() === 'LE') return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const out = Buffer.alloc(data.byteLength);
  for (let i = 0; i < data.length; i++) out.writeFloatLE(data[i], 4 * i);
  return out;
}

/** Writes float32 tensors as a safetensors file, atomically (temp file in the same folder, fsync, rename). */
export async function writeSafetensors(
  file: string,
  tensors: readonly TensorToWrite[],
  metadata: Record<string, string> = {},
): Promise<void> {
  const chunks = [encodeHeader(tensors, metadata), ...tensors.map((t) => littleEndianBytes(t.data))];
  await writeFileAtomic(path.resolve(file), chunks);
}
