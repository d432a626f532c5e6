import * as assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readSafetensors, readSafetensorsHeader, writeSafetensors } from '../../../../src/core/checkpoint/safetensors';
import { LlmLabError } from '../../../../src/core/errors';
import { handMadeSafetensors } from './handMade';

async function tempDir(): Promise<string> {
  return fsp.mkdtemp(path.join(os.tmpdir(), 'llmlab-st-'));
}

async function expectBad(p: Promise<unknown>, ...fragments: string[]): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof LlmLabError, `not an LlmLabError: ${String(e)}`);
    assert.equal(e.code, 'bad-checkpoint');
    for (const f of fragments) assert.ok(e.message.includes(f), `message "${e.message}" lacks "${f}"`);
    return true;
  });
}

describe('safetensors', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await tempDir();
  });
  afterEach(async () => {
    await fsp.rm(dir, { recursive: true, force: true });
  });

  it('round-trips float32 tensors and metadata, with the data section 8-byte aligned', async () => {
    const file = path.join(dir, 'a.safetensors');
    const a = Float32Array.from([1.5, -2, 3.25, 0, 1e-7, 7]);
    const b = Float32Array.from([42]);
    await writeSafetensors(file, [{ name: 'a', shape: [2, 3], data: a }, { name: 'b.c', shape: [1], data: b }], { format: 'pt' });
    const header = await readSafetensorsHeader(file);
    assert.equal(header.dataStart % 8, 0);
    assert.deepEqual(header.metadata, { format: 'pt' });
    assert.deepEqual(header.tensors.get('b.c')!.dataOffsets, [24, 28]);
    const { tensors } = await readSafetensors(file);
    assert.deepEqual(tensors.get('a')!.shape, [2, 3]);
    assert.deepEqual([...tensors.get('a')!.data], [...a]);
    assert.deepEqual([...tensors.get('b.c')!.data], [42]);
    assert.equal((await fsp.stat(file)).size, header.dataStart + 28);
    assert.deepEqual((await fsp.readdir(dir)).sort(), ['a.safetensors'], 'no temp file left behind');
  });

  it('refuses tensors whose byte ranges overlap, and names an unknown dtype even when it is an Object property', async () => {
    const file = path.join(dir, 'overlap.safetensors');
    const data = Buffer.alloc(16);
    // 'b' starts inside 'a': both would read bytes 8..12.
    await fsp.writeFile(file, handMadeSafetensors({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 12] }, b: { dtype: 'F32', shape: [2], data_offsets: [8, 16] } }, data));
    await expectBad(readSafetensorsHeader(file), "'a' [0,12]", "'b' [8,16]", 'overlap');
    await fsp.writeFile(file, handMadeSafetensors({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [8, 16] } }, data));
    assert.equal((await readSafetensorsHeader(file)).tensors.size, 2, 'ranges that only touch are fine');
    for (const dtype of ['constructor', 'toString', '__proto__']) {
      await fsp.writeFile(file, handMadeSafetensors({ a: { dtype, shape: [2], data_offsets: [0, 8] } }, data.subarray(0, 8)));
      await expectBad(readSafetensorsHeader(file), `unknown dtype '${dtype}'`);
    }
  });

  it('converts float16, bfloat16 and float64 to float32', async () => {
    const f16 = Buffer.alloc(12);
    [0x3c00, 0xc000, 0x3800, 0x7bff, 0x0001, 0x7c00].forEach((h, i) => f16.writeUInt16LE(h, 2 * i));
    const bf16 = Buffer.alloc(4);
    bf16.writeUInt16LE(0x3f80, 0); // 1.0
    bf16.writeUInt16LE(0xc040, 2); // -3.0
    const f64 = Buffer.alloc(8);
    f64.writeDoubleLE(0.1, 0);
    const file = path.join(dir, 'mixed.safetensors');
    await fsp.writeFile(
      file,
      handMadeSafetensors(
        {
          h: { dtype: 'F16', shape: [6], data_offsets: [0, 12] },
          b: { dtype: 'BF16', shape: [2], data_offsets: [12, 16] },
          d: { dtype: 'F64', shape: [], data_offsets: [16, 24] },
        },
        Buffer.concat([f16, bf16, f64]),
      ),
    );
    const { tensors } = await readSafetensors(file);
    assert.deepEqual([...tensors.get('h')!.data], [1, -2, 0.5, 65504, 2 ** -24, Infinity]);
    assert.equal(tensors.get('h')!.dtype, 'F16');
    assert.deepEqual([...tensors.get('b')!.data], [1, -3]);
    assert.deepEqual(tensors.get('d')!.shape, []);
    assert.equal(tensors.get('d')!.data[0], Math.fround(0.1));
  });

  it('reads only the tensors a selector keeps, under the names it gives', async () => {
    const file = path.join(dir, 's.safetensors');
    await writeSafetensors(file, [
      { name: 'x.keep', shape: [1], data: Float32Array.from([1]) },
      { name: 'x.drop', shape: [1], data: Float32Array.from([2]) },
    ]);
    const { tensors } = await readSafetensors(file, (n) => (n.endsWith('.keep') ? 'kept' : undefined));
    assert.deepEqual([...tensors.keys()], ['kept']);
  });

  it('rejects a truncated file, naming it', async () => {
    const file = path.join(dir, 't.safetensors');
    await writeSafetensors(file, [{ name: 'w', shape: [4], data: Float32Array.from([1, 2, 3, 4]) }]);
    const full = await fsp.readFile(file);
    await fsp.writeFile(file, full.subarray(0, full.length - 3));
    await expectBad(readSafetensors(file), file, 'truncated');
    await fsp.writeFile(file, full.subarray(0, 5));
    await expectBad(readSafetensors(file), 'truncated');
    await fsp.writeFile(file, full.subarray(0, 20)); // cut inside the header
    await expectBad(readSafetensors(file), 'truncated');
  });

  it('rejects a header that is not JSON', async () => {
    const file = path.join(dir, 'j.safetensors');
    const body = Buffer.from('{"w": {"dtype": "F32", ', 'utf8');
    const len = Buffer.alloc(8);
    len.writeUInt32LE(body.length, 0);
    await fsp.writeFile(file, Buffer.concat([len, body, Buffer.alloc(16)]));
    await expectBad(readSafetensors(file), file, 'not valid JSON');
  });

  it('rejects an unknown dtype and a non-float weight', async () => {
    const file = path.join(dir, 'd.safetensors');
    await fsp.writeFile(file, handMadeSafetensors({ w: { dtype: 'Q4_K', shape: [2], data_offsets: [0, 2] } }, Buffer.alloc(2)));
    await expectBad(readSafetensors(file), "unknown dtype 'Q4_K'", "'w'");
    await fsp.writeFile(file, handMadeSafetensors({ w: { dtype: 'I32', shape: [2], data_offsets: [0, 8] } }, Buffer.alloc(8)));
    await expectBad(readSafetensors(file), 'I32');
  });

  it('rejects a range that does not match the shape', async () => {
    const file = path.join(dir, 'r.safetensors');
    await fsp.writeFile(file, handMadeSafetensors({ w: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, Buffer.alloc(8)));
    await expectBad(readSafetensors(file), 'needs 12 bytes');
  });

  it('says a missing file is missing', async () => {
    await expectBad(readSafetensors(path.join(dir, 'nope.safetensors')), 'nope.safetensors', 'missing');
  });
});
