import * as assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeDirAtomic } from '../../../../src/core/checkpoint/atomic';
import {
  findCheckpoint,
  loadModel,
  saveModel,
  stepDirName,
  writeModelFiles,
} from '../../../../src/core/checkpoint/modelFiles';
import { readSafetensorsHeader, readSafetensors } from '../../../../src/core/checkpoint/safetensors';
import { initEngine, tf } from '../../../../src/core/engine';
import { LlmLabError } from '../../../../src/core/errors';
import type { GptConfig } from '../../../../src/core/model/config';
import { makeConfig } from '../../../../src/core/model/config';
import { GptModel, parameterShapes } from '../../../../src/core/model/gpt';
import { exactHalf, handMadeSafetensors } from './handMade';

const cfg: GptConfig = makeConfig('tiny', { vocabSize: 37, contextLength: 8, embDim: 8, nHeads: 2, nLayers: 2 });

function logitsOf(model: GptModel): number[] {
  return tf.tidy(() => {
    const ids = tf.tensor2d([[1, 5, 9, 2, 30, 7]], [1, 6], 'int32');
    return [...model.forward(ids).logits.dataSync()];
  });
}

async function expectBad(p: Promise<unknown>, ...fragments: string[]): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof LlmLabError, `not an LlmLabError: ${String(e)}`);
    assert.equal(e.code, 'bad-checkpoint', e.message);
    for (const f of fragments) assert.ok(e.message.includes(f), `message "${e.message}" lacks "${f}"`);
    return true;
  });
}

describe('model checkpoints', () => {
  let dir: string;
  before(async () => {
    await initEngine('cpu');
  });
  beforeEach(async () => {
    dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'llmlab-ckpt-'));
  });
  afterEach(async () => {
    await fsp.rm(dir, { recursive: true, force: true });
  });

  it('saves and loads a model that gives the same logits, in the Hugging Face GPT-2 layout', async () => {
    const model = GptModel.create(cfg, 3);
    const out = path.join(dir, 'm');
    await saveModel(out, model, { note: 'test' });
    const config = JSON.parse(await fsp.readFile(path.join(out, 'config.json'), 'utf8'));
    assert.equal(config.model_type, 'gpt2');
    assert.deepEqual(config.architectures, ['GPT2LMHeadModel']);
    assert.equal(config.n_embd, 8);
    assert.equal(config.n_positions, 8);
    assert.equal(config.tie_word_embeddings, true);
    assert.equal(config.llm_lab.qkvBias, true);
    assert.equal(config.llm_lab.note, 'test');
    const header = await readSafetensorsHeader(path.join(out, 'model.safetensors'));
    assert.deepEqual(header.tensors.get('h.1.attn.c_attn.weight')!.shape, [8, 24]); // tied: no prefix, no lm_head
    assert.ok(!header.tensors.has('lm_head.weight'));
    assert.equal(header.tensors.get('wte.weight')!.dtype, 'F32');
    assert.equal(header.metadata.format, 'pt');
    const loaded = await loadModel(out);
    assert.deepEqual(loaded.config, cfg);
    assert.deepEqual(logitsOf(loaded.model), logitsOf(model));
    model.dispose();
    loaded.model.dispose();
  });

  it('refuses a model file with a NaN or infinite weight, naming the tensor', async () => {
    const model = GptModel.create(cfg, 3);
    const out = path.join(dir, 'm');
    await saveModel(out, model);
    model.dispose();
    const file = path.join(out, 'model.safetensors');
    const header = await readSafetensorsHeader(file);
    const at = header.dataStart + header.tensors.get('h.1.mlp.c_fc.weight')!.dataOffsets[0] + 4 * 5; // its 6th value
    const good = await fsp.readFile(file);
    for (const [bits, shown] of [[0x7fc00000, 'NaN'], [0x7f800000, 'Infinity'], [0xff800000, '-Infinity']] as const) {
      const bytes = Buffer.from(good);
      bytes.writeUInt32LE(bits, at);
      await fsp.writeFile(file, bytes);
      await expectBad(loadModel(out), "'h.1.mlp.c_fc.weight'", `holds ${shown} at index 5`, 'earlier checkpoint');
    }
    await fsp.writeFile(file, good);
    (await loadModel(out)).model.dispose();
  });

  it('writes a zero c_attn.bias for a model without qkv bias and an untied head, and reads them back', async () => {
    const c2 = { ...cfg, qkvBias: false, tiedHead: false };
    const model = GptModel.create(c2, 4);
    await saveModel(dir, model);
    const { tensors } = await readSafetensors(path.join(dir, 'model.safetensors'));
    assert.ok([...tensors.get('transformer.h.0.attn.c_attn.bias')!.data].every((x) => x === 0));
    assert.deepEqual(tensors.get('lm_head.weight')!.shape, [37, 8]);
    assert.deepEqual(tensors.get('transformer.wte.weight')!.shape, [37, 8]); // untied: the body under transformer.
    const loaded = await loadModel(dir);
    assert.equal(loaded.config.qkvBias, false);
    assert.equal(loaded.config.tiedHead, false);
    assert.ok(!loaded.model.params.has('h.0.attn.c_attn.bias'));
    assert.deepEqual(logitsOf(loaded.model), logitsOf(model));
    model.dispose();
    loaded.model.dispose();
  });

  it('loads a hand-built Hugging Face file: transformer. prefix, attn.bias buffers, float16 weights', async () => {
    const shapes = parameterShapes(cfg);
    const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
    const parts: Buffer[] = [];
    const expected = new Map<string, number[]>();
    let offset = 0;
    let k = 0;
    const add = (name: string, dtype: string, shape: number[], bytes: Buffer): void => {
      header[name] = { dtype, shape, data_offsets: [offset, offset + bytes.length] };
      parts.push(bytes);
      offset += bytes.length;
    };
    for (const [name, shape] of shapes) {
      const n = shape.reduce((a, b) => a * b, 1);
      const values = Array.from({ length: n }, () => ((k++ * 37) % 301) / 1024 - 0.14); // exact in float16
      const bytes = Buffer.alloc(2 * n);
      values.forEach((v, i) => bytes.writeUInt16LE(exactHalf(Math.round(v * 1024) / 1024), 2 * i));
      expected.set(name, values.map((v) => Math.round(v * 1024) / 1024 + 0));
      add(`transformer.${name}`, 'F16', shape, bytes);
      if (name.endsWith('ln_2.weight')) {
        const layer = name.split('.')[1];
        add(`transformer.h.${layer}.attn.bias`, 'F32', [1, 1, 8, 8], Buffer.alloc(4 * 64));
        add(`transformer.h.${layer}.attn.masked_bias`, 'F32', [], Buffer.alloc(4));
      }
    }
    await fsp.writeFile(path.join(dir, 'model.safetensors'), handMadeSafetensors(header, Buffer.concat(parts)));
    const hfConfig = {
      architectures: ['GPT2LMHeadModel'],
      model_type: 'gpt2',
      vocab_size: 37,
      n_ctx: 8,
      n_positions: 8,
      n_embd: 8,
      n_head: 2,
      n_layer: 2,
      activation_function: 'gelu_new',
      resid_pdrop: 0.1,
      embd_pdrop: 0.1,
      attn_pdrop: 0.1,
      layer_norm_epsilon: 1e-5,
    };
    await fsp.writeFile(path.join(dir, 'config.json'), JSON.stringify(hfConfig));
    const loaded = await loadModel(dir);
    assert.equal(loaded.config.qkvBias, true);
    assert.equal(loaded.config.tiedHead, true);
    assert.equal(loaded.config.dropRate, 0.1);
    for (const [name, values] of expected) {
      assert.deepEqual([...loaded.model.params.get(name)!.dataSync()], values, name);
    }
    loaded.model.dispose();
  });

  it('finds the latest step checkpoint of a run folder and ignores an unfinished one', async () => {
    const a = GptModel.create(cfg, 1);
    const b = GptModel.create(cfg, 2);
    await saveModel(path.join(dir, 'checkpoints', stepDirName(10)), a);
    await saveModel(path.join(dir, 'checkpoints', stepDirName(200)), b);
    await fsp.mkdir(path.join(dir, 'checkpoints', '.step-000300.tmp-1-x-0'));
    assert.equal(await findCheckpoint(dir), path.join(dir, 'checkpoints', 'step-000200'));
    const loaded = await loadModel(dir);
    assert.deepEqual(logitsOf(loaded.model), logitsOf(b));
    [a, b, loaded.model].forEach((m) => m.dispose());
  });

  it('keeps the previous checkpoint loadable when a save is interrupted between files', async () => {
    const old = GptModel.create(cfg, 5);
    const next = GptModel.create(cfg, 6);
    await saveModel(dir, old);
    await assert.rejects(
      writeDirAtomic(dir, async (tmp) => {
        await writeModelFiles(tmp, next);
        throw new Error('simulated crash after the weights were written');
      }),
      /simulated crash/,
    );
    const loaded = await loadModel(dir);
    assert.deepEqual(logitsOf(loaded.model), logitsOf(old));
    const leftovers = (await fsp.readdir(path.dirname(dir))).filter((n) => n.startsWith(`.${path.basename(dir)}.`));
    assert.deepEqual(leftovers, []);
    [old, next, loaded.model].forEach((m) => m.dispose());
  });

  it('replaces a saved model but keeps the other files of its folder', async () => {
    const a = GptModel.create(cfg, 9);
    const b = GptModel.create(cfg, 10);
    await saveModel(dir, a);
    await fsp.writeFile(path.join(dir, 'NOTES.md'), 'my notes');
    await saveModel(dir, b);
    assert.equal(await fsp.readFile(path.join(dir, 'NOTES.md'), 'utf8'), 'my notes');
    const loaded = await loadModel(dir);
    assert.deepEqual(logitsOf(loaded.model), logitsOf(b));
    [a, b, loaded.model].forEach((m) => m.dispose());
  });

  it('does not leak tensors when saving and loading', async () => {
    const model = GptModel.create(cfg, 7);
    await saveModel(dir, model);
    const before = tf.memory().numTensors;
    const loaded = await loadModel(dir);
    loaded.model.dispose();
    assert.equal(tf.memory().numTensors, before);
    model.dispose();
  });

  describe('errors', () => {
    let model: GptModel;
    beforeEach(async () => {
      model = GptModel.create(cfg, 8);
      await saveModel(dir, model);
    });
    afterEach(() => model.dispose());

    it('a missing folder', async () => {
      await assert.rejects(loadModel(path.join(dir, 'nope')), (e: unknown) => (e as LlmLabError).code === 'not-found');
    });
    it('a missing config.json', async () => {
      await fsp.rm(path.join(dir, 'config.json'));
      await expectBad(loadModel(dir), 'config.json is missing');
    });
    it('a missing model.safetensors', async () => {
      await fsp.rm(path.join(dir, 'model.safetensors'));
      await expectBad(loadModel(dir), 'model.safetensors is missing');
    });
    it('a config.json that is not JSON', async () => {
      await fsp.writeFile(path.join(dir, 'config.json'), '{"n_embd": 8,');
      await expectBad(loadModel(dir), 'config.json', 'not valid JSON');
    });
    it('a truncated model.safetensors', async () => {
      const file = path.join(dir, 'model.safetensors');
      const full = await fsp.readFile(file);
      await fsp.writeFile(file, full.subarray(0, full.length - 100));
      await expectBad(loadModel(dir), 'model.safetensors', 'truncated');
    });
    it('a weights header that is not JSON', async () => {
      const file = path.join(dir, 'model.safetensors');
      const full = await fsp.readFile(file);
      full.write('#', 8); // first byte of the JSON header
      await fsp.writeFile(file, full);
      await expectBad(loadModel(dir), 'model.safetensors', 'not valid JSON');
    });
    it('a tensor with the wrong shape for the config', async () => {
      const configFile = path.join(dir, 'config.json');
      const config = JSON.parse(await fsp.readFile(configFile, 'utf8'));
      config.n_positions = 16;
      await fsp.writeFile(configFile, JSON.stringify(config));
      await expectBad(loadModel(dir), "'wpe.weight'", '[8,8]', '[16,8]');
    });
    it('a tensor of an unknown dtype', async () => {
      const file = path.join(dir, 'model.safetensors');
      const full = await fsp.readFile(file);
      const at = full.indexOf('"F32"');
      full.write('"Q8X"', at);
      await fsp.writeFile(file, full);
      await expectBad(loadModel(dir), 'unknown dtype', 'Q8X');
    });
    it('a config for another architecture', async () => {
      const configFile = path.join(dir, 'config.json');
      const config = JSON.parse(await fsp.readFile(configFile, 'utf8'));
      config.activation_function = 'relu';
      await fsp.writeFile(configFile, JSON.stringify(config));
      await expectBad(loadModel(dir), 'activation_function');
    });
    it('a model too big for the machine is refused from its config, before the weights are read', async () => {
      const configFile = path.join(dir, 'config.json');
      const config = JSON.parse(await fsp.readFile(configFile, 'utf8'));
      await fsp.rm(path.join(dir, 'model.safetensors')); // were it read, the error would be about this file
      // GPT-2 XL: 1,557,611,200 float32 weights are 6.2 GB, read once as file bytes and once as tensors:
      // at least 12.4 GB, more than 80% of a 12 GB machine and less than 80% of a 64 GB one.
      Object.assign(config, { n_layer: 48, n_embd: 1600, n_head: 25, n_positions: 1024, vocab_size: 50257 });
      await fsp.writeFile(configFile, JSON.stringify(config));
      await assert.rejects(loadModel(dir, { machineBytes: 12e9 }), (e: unknown) => {
        assert.ok(e instanceof LlmLabError);
        assert.equal(e.code, 'out-of-memory', e.message);
        assert.match(e.message, /has 1,557,611,200 parameters and needs about 1\d\.\d GB of memory to load, but this machine has 12\.0 GB in all/);
        return true;
      });
      await expectBad(loadModel(dir, { machineBytes: 64e9 }), 'model.safetensors is missing');
      // An absurd config (a hundred million layers) is refused the same way, not by an allocation failing.
      config.n_layer = 100_000_000;
      await fsp.writeFile(configFile, JSON.stringify(config));
      await assert.rejects(loadModel(dir), (e: unknown) => (e as LlmLabError).code === 'out-of-memory');
    });
    it('a folder that is neither a model nor a run', async () => {
      const empty = path.join(dir, 'empty');
      await fsp.mkdir(empty);
      await expectBad(loadModel(empty), 'config.json is missing', 'no training checkpoints');
    });
  });
});
