import * as assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCli } from '../../../src/cli/app';
import { captureIo } from '../../../src/cli/io';
import { loadModel, readSafetensors, saveModel } from '../../../src/core/checkpoint';
import { initEngine, tf } from '../../../src/core/engine';
import { describeAdapters, fingerprintModel, loadAdapted, LoraAdapters, loraSites, parseLoraTargets, saveAdapter } from '../../../src/core/lora';
import { makeConfig } from '../../../src/core/model/config';
import { GptModel } from '../../../src/core/model/gpt';
import { trainBpe } from '../../../src/core/tokenizer/train';

async function cli(args: string[]) {
  const io = captureIo();
  const code = await runCli(args, io);
  return { code, out: io.out(), err: io.err() };
}

function logitsOf(model: GptModel): Float32Array {
  return tf.tidy(() => model.forward(tf.tensor2d([[3, 9, 27, 81, 243, 729]], [1, 6], 'int32')).logits).dataSync() as Float32Array;
}

describe('llm-lab lora', () => {
  const config = makeConfig('tiny', { contextLength: 16, embDim: 32, nHeads: 2, nLayers: 2 });
  let tmp: string;
  let baseDir: string;
  let adapterDir: string;

  before(async () => {
    await initEngine('cpu');
    tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'llm-lab-lora-cli-'));
    baseDir = path.join(tmp, 'base');
    adapterDir = path.join(tmp, 'adapter');
    const base = GptModel.create(config, 11);
    await saveModel(baseDir, base);
    const a = LoraAdapters.create(loraSites(config, parseLoraTargets('all')), { rank: 4, alpha: 8 }, 11);
    let i = 0;
    for (const s of a.bySite.values()) s.B.assign(tf.randomNormal(s.B.shape, 0, 0.2, 'float32', i++));
    await saveAdapter(adapterDir, a, describeAdapters(a, { model: baseDir, fingerprint: await fingerprintModel(base), config }, { promptStyle: 'alpaca' }));
    a.dispose();
    base.dispose();
  });
  after(async () => {
    await fsp.rm(tmp, { recursive: true, force: true });
  });

  it('merge writes a plain model whose outputs equal base + adapter', async () => {
    const out = path.join(tmp, 'merged');
    const r = await cli(['lora', 'merge', '--model', adapterDir, '--out', out, '--json']);
    assert.equal(r.code, 0, r.err);
    const merged = await loadModel(out);
    const adapted = await loadAdapted(adapterDir);
    const want = logitsOf(adapted.model);
    const got = logitsOf(merged.model);
    assert.ok(got.reduce((m, x, j) => Math.max(m, Math.abs(x - want[j])), 0) < 1e-4);
    assert.equal(merged.meta.promptStyle, 'alpaca');
    assert.equal(merged.config.tiedHead, false);
    merged.model.dispose();
    adapted.model.dispose();
  });

  it('merge keeps the base’s own trained tokenizer beside the merged weights, so the merged model runs', async () => {
    const vocabSize = 270;
    const bpe = (await trainBpe(['Hello there, said the model.', 'The model said hello back.'], { vocabSize, name: 'own' })).model;
    const own = makeConfig('tiny', { vocabSize, contextLength: 16, embDim: 32, nHeads: 2, nLayers: 1 });
    const base = GptModel.create(own, 12);
    const ownBase = path.join(tmp, 'own-base');
    const ownAdapter = path.join(tmp, 'own-adapter');
    await saveModel(ownBase, base, { tokenizer: 'trained' }, bpe);
    const a = LoraAdapters.create(loraSites(own, parseLoraTargets('q,v')), { rank: 2, alpha: 4 }, 12);
    await saveAdapter(ownAdapter, a, describeAdapters(a, { model: ownBase, fingerprint: await fingerprintModel(base), config: own }, { tokenizer: 'trained' }));
    a.dispose();
    base.dispose();
    const out = path.join(tmp, 'own-merged');
    const r = await cli(['lora', 'merge', '--model', ownAdapter, '--out', out]);
    assert.equal(r.code, 0, r.err);
    assert.equal(await fsp.readFile(path.join(out, 'tokenizer.model'), 'utf8'), await fsp.readFile(path.join(ownBase, 'tokenizer.model'), 'utf8'));
    const g = await cli(['generate', '--model', out, '--prompt', 'Hello', '--temperature', '0', '--max-new-tokens', '3', '--no-stop', '--json']);
    assert.equal(g.code, 0, g.err);
  });

  it('export then import gives back the same adapter, and generate runs on an adapter folder', async () => {
    const peft = path.join(tmp, 'peft');
    const back = path.join(tmp, 'imported');
    assert.equal((await cli(['lora', 'export', '--model', adapterDir, '--out', peft])).code, 0);
    assert.deepEqual((await fsp.readdir(peft)).sort(), ['adapter_config.json', 'adapter_model.safetensors']);
    const r = await cli(['lora', 'import', '--peft', peft, '--base', baseDir, '--out', back, '--prompt-style', 'alpaca']);
    assert.equal(r.code, 0, r.err);
    const tensorsOf = async (dir: string) => new Map([...(await readSafetensors(path.join(dir, 'adapter.safetensors'))).tensors].sort(([x], [y]) => x.localeCompare(y)));
    const original = await tensorsOf(adapterDir);
    assert.equal(original.size, 2 * (2 * 6 + 1));
    assert.deepEqual(await tensorsOf(back), original);
    const g1 = await cli(['generate', '--model', adapterDir, '--prompt', 'Hello', '--temperature', '0', '--max-new-tokens', '5', '--no-stop', '--json']);
    const g2 = await cli(['generate', '--model', path.join(tmp, 'merged'), '--prompt', 'Hello', '--temperature', '0', '--max-new-tokens', '5', '--no-stop', '--json']);
    assert.equal(g1.code, 0, g1.err);
    assert.deepEqual(JSON.parse(g1.out).tokens, JSON.parse(g2.out).tokens);
  });

  it('info shows the book’s 2,666,528 trainable values for GPT-2 124M with a 2-class head at rank 16', async () => {
    const r = await cli(['info', '--preset', 'gpt2', '--classes', '2', '--lora-rank', '16', '--lora-alpha', '16', '--json', '--backend', 'cpu']);
    assert.equal(r.code, 0, r.err);
    const j = JSON.parse(r.out);
    assert.equal(j.trainableParameters, 2_666_528);
    assert.equal(j.parameters, 124_439_808 + 2 * 768);
    assert.deepEqual(j.lora, { rank: 16, alpha: 16, targets: ['q', 'k', 'v', 'attn-out', 'mlp-in', 'mlp-out', 'head'] });
    const plain = JSON.parse((await cli(['info', '--preset', 'gpt2', '--json', '--backend', 'cpu'])).out);
    assert.equal(plain.trainableParameters, 124_439_808);
    const bad = await cli(['info', '--preset', 'gpt2', '--lora-targets', 'q']);
    assert.match(bad.err, /need --lora-rank/);
  });

  it('refuses another base, an occupied --out and a missing action, in one line', async () => {
    const other = path.join(tmp, 'other');
    const m = GptModel.create(config, 12);
    await saveModel(other, m);
    m.dispose();
    const wrong = await cli(['lora', 'merge', '--model', adapterDir, '--base', other, '--out', path.join(tmp, 'x')]);
    assert.equal(wrong.code, 1);
    assert.match(wrong.err, /^llm-lab: The adapter in .* was trained on other base weights/);
    assert.equal(wrong.err.trimEnd().split('\n').length, 1);
    const busy = await cli(['lora', 'merge', '--model', adapterDir, '--out', baseDir]);
    assert.equal(busy.code, 1);
    assert.match(busy.err, /already holds files/);
    const none = await cli(['lora', '--out', path.join(tmp, 'y')]);
    assert.match(none.err, /needs one action: merge, export, import/);
  });
});
