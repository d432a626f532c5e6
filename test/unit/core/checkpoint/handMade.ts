// Test helpers that build checkpoint files byte by byte, independently of the writer under test.

/** A safetensors file assembled by hand: u64 LE header length, JSON header, then the raw data. */
export function handMadeSafetensors(header: Record<string, unknown>, data: Buffer): Buffer {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const len = Buffer.alloc(8);
  len.writeUInt32LE(json.length, 0); // the high 32 bits stay 0
  return Buffer.concat([len, json, data]);
}

/** float16 bits of a value that float16 holds exactly (normal range), e.g. k/1024 for |k| < 2048. */
export function exactHalf(x: number): number {
  if (x === 0) return 0;
  const sign = x < 0 ? 0x8000 : 0;
  const a = Math.abs(x);
  const e = Math.floor(Math.log2(a));
  const mant = (a / 2 ** e - 1) * 1024;
  if (!Number.isInteger(mant) || e < -14 || e > 15) throw new Error(`${x} is not exact in float16`);
  return sign | ((e + 15) << 10) | mant;
}
