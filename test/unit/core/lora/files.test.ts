import * as assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readSafetensors, saveModel, writeSafetensors } from '../../../../src/core/checkpoint';
import { initEngine, tf } from '../../../../src/core/engine';
import { isLlmLabError } from '../../../../src/core/errors';
import { GptModel } from '../../../../src/core/model/gpt';
import {
  describeAdapters,
  exportPeft,
  fingerprintModel,
  importPeft,
  loadAdapted,
  LoraAdapters,
  loraSites,
  parseLoraTargets,
  saveAdapter,
} from '../../../../src/core/lora';
import { batch, cfg, randomizeB } from './helpers';

function pairsOf(a: LoraAdapters): Map<string, { rank: number; alpha: number; A: Float32Array; B: Float32Array }> {
  return new Map([...a.bySite].map(([k, s]) => [k, { rank: s.rank, alpha: s.alpha, A: s.A.dataSync() as Float32Array, B: s.B.dataSync() as Float32Array }]));
}

function logitsOf(model: GptModel): Float32Array {
  return tf.tidy(() => model.forward(batch()).logits).dataSync() as Float32Array;
}

describe('LoRA adapter files', () => {
  let tmp: string;
  before(async () => {
    await initEngine('cpu');
    tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'llm-lab-lora-'));
  });
  after(async () => {
    await fsp.rm(tmp, { recursive: true, force: true });
  });

  it('fingerprints weights: equal for equal weights, different after one value changes', async () => {
    const a = GptModel.create(cfg, 1);
    const b = GptModel.create(cfg, 1);
    assert.equal(await fingerprintModel(a), await fingerprintModel(b));
    assert.match(await fingerprintModel(a), /^sha256:[0-9a-f]{64}$/);
    const w = b.params.get('h.1.mlp.c_fc.bias')!;
    w.assign(tf.tidy(() => tf.add(w, tf.mul(tf.reshape(tf.oneHot(tf.tensor1d([3], 'int32'), w.size), w.shape), 1e-6))));
    assert.notEqual(await fingerprintModel(a), await fingerprintModel(b));
    a.dispose();
    b.dispose();
  });

  it('saves apart from the base and loads onto it with the same outputs; refuses another base', async () => {
    const base = GptModel.create(cfg, 3);
    const baseDir = path.join(tmp, 'base');
    await saveModel(baseDir, base);
    const a = LoraAdapters.create(loraSites(cfg, parseLoraTargets('all')), { rank: 2, alpha: 4 }, 3);
    randomizeB(a, 3);
    base.adapter = a;
    const want = logitsOf(base);
    const dir = path.join(tmp, 'adapter');
    await saveAdapter(dir, a, describeAdapters(a, { model: baseDir, fingerprint: await fingerprintModel(base), config: cfg }, { promptStyle: 'phi3' }));
    assert.deepEqual((await fsp.readdir(dir)).sort(), ['adapter.json', 'adapter.safetensors']);

    const loaded = await loadAdapted(dir);
    assert.deepEqual(logitsOf(loaded.model), want);
    assert.deepEqual(pairsOf(loaded.adapters), pairsOf(a));
    assert.equal(loaded.adapterMeta.promptStyle, 'phi3');
    loaded.model.dispose();
    loaded.adapters.dispose();

    const other = GptModel.create(cfg, 4);
    const otherDir = path.join(tmp, 'other-base');
    await saveModel(otherDir, other);
    await assert.rejects(loadAdapted(dir, otherDir), (e) => isLlmLabError(e) && e.code === 'bad-checkpoint' && /trained on other base weights/.test(e.message) && e.message.includes(baseDir));
    await assert.rejects(loadAdapted(dir, path.join(tmp, 'nowhere')), (e) => isLlmLabError(e) && e.code === 'not-found' && /needs its base model/.test(e.message));
    other.dispose();
    a.dispose();
    base.dispose();
  });

  it('exports q, k, v as one PEFT c_attn adapter of rank 3R with block-diagonal B, and imports it back bit for bit', async () => {
    const model = GptModel.create(cfg, 6);
    const a = LoraAdapters.create(loraSites(cfg, parseLoraTargets('all')), { rank: 2, alpha: 4 }, 6);
    randomizeB(a, 6);
    const out = path.join(tmp, 'peft');
    await exportPeft(a, cfg, out);
    const conf = JSON.parse(await fsp.readFile(path.join(out, 'adapter_config.json'), 'utf8'));
    assert.equal(conf.peft_type, 'LORA');
    assert.equal(conf.r, 2);
    assert.equal(conf.lora_alpha, 4);
    assert.deepEqual(conf.rank_pattern, { 'attn.c_attn': 6 });
    assert.deepEqual(conf.alpha_pattern, { 'attn.c_attn': 12 });
    assert.deepEqual(conf.target_modules.sort(), ['attn.c_attn', 'attn.c_proj', 'lm_head', 'mlp.c_fc', 'mlp.c_proj']);
    const { tensors } = await readSafetensors(path.join(out, 'adapter_model.safetensors'));
    const A = tensors.get('base_model.model.transformer.h.0.attn.c_attn.lora_A.weight')!;
    const B = tensors.get('base_model.model.transformer.h.0.attn.c_attn.lora_B.weight')!;
    assert.deepEqual(A.shape, [6, 16]);
    assert.deepEqual(B.shape, [48, 6]);
    // lora_B.weight (out, rank): rows of the q third use only columns 0-1, k 2-3, v 4-5.
    for (let o = 0; o < 48; o++) for (let r = 0; r < 6; r++) if (Math.floor(r / 2) !== Math.floor(o / 16)) assert.equal(B.data[o * 6 + r], 0);
    // lora_A.weight row 3 is k's A column 1: A_k[i][1] for every input i.
    const Ak = a.bySite.get('h.0.attn.c_attn.k')!.A.arraySync() as number[][];
    assert.deepEqual(Array.from(A.data.subarray(3 * 16, 4 * 16)), Ak.map((row) => Math.fround(row[1])));
    assert.deepEqual(tensors.get('base_model.model.lm_head.lora_B.weight')!.shape, [53, 2]);

    const back = await importPeft(out, cfg);
    assert.deepEqual(pairsOf(back), pairsOf(a));
    model.adapter = a;
    const want = logitsOf(model);
    model.adapter = back;
    assert.deepEqual(logitsOf(model), want);
    back.dispose();
    a.dispose();
    model.dispose();
  });

  it('imports a PEFT adapter written elsewhere with PEFT’s formula: W + (alpha/r)·(lora_B·lora_A)ᵀ', async () => {
    // A hand-made PEFT folder: rank 2, alpha 8 (alpha_pattern 2 for c_attn), a full (not block-diagonal) c_attn
    // adapter and an mlp.c_fc one on layer 1, tensor names as PEFT writes for GPT2LMHeadModel.
    const model = GptModel.create(cfg, 8);
    const dir = path.join(tmp, 'peft-elsewhere');
    await fsp.mkdir(dir);
    const rnd = (n: number, k: number): Float32Array => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 1.7 + k) * 0.2);
    const fcA = rnd(2 * 16, 1); // (r, in)
    const fcB = rnd(64 * 2, 2); // (out, r)
    const qkvA = rnd(2 * 16, 3);
    const qkvB = rnd(48 * 2, 4);
    await writeSafetensors(path.join(dir, 'adapter_model.safetensors'), [
      { name: 'base_model.model.transformer.h.1.mlp.c_fc.lora_A.weight', shape: [2, 16], data: fcA },
      { name: 'base_model.model.transformer.h.1.mlp.c_fc.lora_B.weight', shape: [64, 2], data: fcB },
      { name: 'base_model.model.transformer.h.0.attn.c_attn.lora_A.weight', shape: [2, 16], data: qkvA },
      { name: 'base_model.model.transformer.h.0.attn.c_attn.lora_B.weight', shape: [48, 2], data: qkvB },
    ]);
    await fsp.writeFile(path.join(dir, 'adapter_config.json'), JSON.stringify({ peft_type: 'LORA', r: 2, lora_alpha: 8, alpha_pattern: { c_attn: 2 }, target_modules: ['c_attn', 'c_fc'], fan_in_fan_out: true, bias: 'none' }));
    const a = await importPeft(dir, cfg);
    assert.deepEqual([...a.bySite.keys()].sort(), ['h.0.attn.c_attn', 'h.1.mlp.c_fc']);
    model.adapter = a;
    const adapted = logitsOf(model);
    a.dispose();
    model.adapter = undefined;
    // PEFT's merge for a Conv1D (fan_in_fan_out): W[in][out] += scale · Σ_r lora_B[out][r] · lora_A[r][in].
    const bump = (name: string, A: Float32Array, B: Float32Array, inDim: number, outDim: number, scale: number): void => {
      const w = model.params.get(name)!;
      const data = Float32Array.from(w.dataSync());
      for (let i = 0; i < inDim; i++) for (let o = 0; o < outDim; o++) data[i * outDim + o] += scale * (B[o * 2] * A[i] + B[o * 2 + 1] * A[16 + i]);
      w.assign(tf.tensor2d(data, [inDim, outDim]));
    };
    bump('h.1.mlp.c_fc.weight', fcA, fcB, 16, 64, 8 / 2);
    bump('h.0.attn.c_attn.weight', qkvA, qkvB, 16, 48, 2 / 2);
    const byHand = logitsOf(model);
    const worst = Math.max(...byHand.map((x, i) => Math.abs(x - adapted[i])));
    assert.ok(worst < 1e-4, `differs by ${worst}`);
    model.dispose();
  });

  it('refuses PEFT adapters it cannot represent, saying why', async () => {
    const dir = path.join(tmp, 'peft-dora');
    await fsp.mkdir(dir);
    await fsp.writeFile(path.join(dir, 'adapter_config.json'), JSON.stringify({ peft_type: 'LORA', r: 2, lora_alpha: 8, use_dora: true }));
    await assert.rejects(importPeft(dir, cfg), (e) => isLlmLabError(e) && /DoRA/.test(e.message));
    await assert.rejects(importPeft(path.join(tmp, 'none'), cfg), (e) => isLlmLabError(e) && /adapter_config\.json is missing/.test(e.message));
  });
});
