// A LoRA classifier from the command line: classify runs on the adapter (base + adapters + head), `lora merge`
// writes a plain classifier giving the same probabilities, `lora export` + `lora import` give back an adapter with
// exactly the same predictions, and info and generate see a classifier.
import * as assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCli } from '../../../src/cli/app';
import { captureIo } from '../../../src/cli/io';
import { saveModel } from '../../../src/core/checkpoint';
import { finetuneClassifier } from '../../../src/core/classify';
import { initEngine } from '../../../src/core/engine';
import { makeConfig } from '../../../src/core/model/config';
import { GptModel } from '../../../src/core/model/gpt';

async function cli(args: string[]) {
  const io = captureIo();
  const code = await runCli(args, io);
  return { code, out: io.out(), err: io.err() };
}

const TEXTS = ['apple pear plum', 'hammer saw drill', 'mango wrench'];

describe('llm-lab with a LoRA classifier', function () {
  this.timeout(300_000);
  let tmp: string;
  let baseDir: string;
  let runDir: string;

  before(async () => {
    await initEngine('cpu');
    tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'llm-lab-clora-cli-'));
    baseDir = path.join(tmp, 'base');
    runDir = path.join(tmp, 'run');
    const base = GptModel.create(makeConfig('tiny', { contextLength: 16, embDim: 16, nHeads: 2, nLayers: 2, dropRate: 0 }), 3);
    await saveModel(baseDir, base);
    base.dispose();
    const rows: string[] = [];
    for (let i = 0; i < 24; i++) rows.push(`fruit\t${['apple', 'pear', 'plum', 'mango'][i % 4]} ${['cherry', 'grape'][i % 2]}`, `tool\t${['hammer', 'saw', 'drill', 'wrench'][i % 4]} ${['chisel', 'pliers'][i % 2]}`);
    await fsp.writeFile(path.join(tmp, 'toy.tsv'), rows.join('\n') + '\n');
    await finetuneClassifier({ outDir: runDir, dataFile: path.join(tmp, 'toy.tsv'), modelDir: baseDir, lr: 1e-2, epochs: 2, batchSize: 6, evalEvery: 0, seed: 5, lora: { rank: 2, alpha: 4 } });
  });
  after(async () => {
    await fsp.rm(tmp, { recursive: true, force: true });
  });

  async function probabilities(model: string): Promise<Array<Record<string, number>>> {
    const r = await cli(['classify', '--model', model, ...TEXTS.flatMap((t) => ['--text', t]), '--json']);
    assert.equal(r.code, 0, r.err);
    return (JSON.parse(r.out) as { predictions: Array<{ probabilities: Record<string, number> }> }).predictions.map((p) => p.probabilities);
  }

  it('finetune classify --lora-rank shows the trainable count info gives, trains adapters only, and classify takes the run', async () => {
    // The tiny preset (64 wide, 2 layers) at rank 2, by hand: per layer q, k, v 3·2·128, attn-out 2·128, mlp-in
    // and mlp-out 2·(64+256) each; the head's adapter 2·(64+2).
    const want = 2 * (3 * 256 + 256 + 640 + 640) + 2 * 66;
    const info = await cli(['info', '--preset', 'tiny', '--classes', '2', '--lora-rank', '2', '--json']);
    assert.equal(JSON.parse(info.out).trainableParameters, want);
    const out = path.join(tmp, 'cli-run');
    const args = ['finetune', 'classify', '--preset', 'tiny', '--context', '16', '--data', path.join(tmp, 'toy.tsv'), '--out', out, '--lora-rank', '2', '--epochs', '1', '--batch', '6', '--lr', '1e-2'];
    const plan = await cli([...args, '--plan', '--json']);
    assert.equal(plan.code, 0, plan.err);
    assert.equal(JSON.parse(plan.out).trainableParameters, want);
    const r = await cli(args);
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, new RegExp(`${want.toLocaleString('en-US')} trained \\(lora\\)`));
    assert.match(r.err, /LoRA: rank 2, alpha 2 on q, k, v, attn-out, mlp-in, mlp-out, head; the base frozen, the new head kept as made with its own adapter/);
    assert.match(r.err, /test accuracy/);
    const files = await fsp.readdir(path.join(out, 'checkpoints', (await fsp.readdir(path.join(out, 'checkpoints')))[0]));
    assert.ok(files.includes('adapter.json') && !files.includes('model.safetensors'), files.join(', '));
    assert.ok((await fsp.readdir(path.join(out, 'base'))).includes('model.safetensors'));
    assert.equal((await probabilities(out)).length, 3);
    const both = await cli([...args.slice(0, 8), '--out', path.join(tmp, 'never'), '--lora-rank', '2', '--trainable', 'all']);
    assert.equal(both.code, 1);
    assert.match(both.err, /--trainable and --lora-rank exclude each other/);
  });

  it('classifies with the adapter; lora merge writes a plain classifier with the same probabilities', async () => {
    const adapted = await probabilities(runDir);
    assert.equal(adapted.length, 3);
    const out = path.join(tmp, 'merged');
    const r = await cli(['lora', 'merge', '--model', runDir, '--out', out, '--json']);
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(JSON.parse(r.out).labels, ['fruit', 'tool']);
    const config = JSON.parse(await fsp.readFile(path.join(out, 'config.json'), 'utf8'));
    assert.deepEqual(config.architectures, ['GPT2ForSequenceClassification']);
    assert.deepEqual(config.id2label, { 0: 'fruit', 1: 'tool' });
    const merged = await probabilities(out);
    for (let i = 0; i < 3; i++) for (const k of ['fruit', 'tool']) assert.ok(Math.abs(merged[i][k] - adapted[i][k]) < 1e-5, `${TEXTS[i]} ${k}`);
  });

  it('lora export then import gives an adapter with exactly the same predictions', async () => {
    const peft = path.join(tmp, 'peft');
    const e = await cli(['lora', 'export', '--model', runDir, '--out', peft]);
    assert.equal(e.code, 0, e.err);
    assert.match(e.out, /sequence-classification adapter .* the head as modules_to_save/);
    const back = path.join(tmp, 'imported');
    const i = await cli(['lora', 'import', '--peft', peft, '--base', baseDir, '--out', back, '--json']);
    assert.equal(i.code, 0, i.err);
    assert.deepEqual(JSON.parse(i.out).labels, ['fruit', 'tool']);
    assert.deepEqual(await probabilities(back), await probabilities(runDir));
  });

  it('info counts what trained; generate refuses the classifier', async () => {
    const r = await cli(['info', '--model', runDir, '--json']);
    assert.equal(r.code, 0, r.err);
    const info = JSON.parse(r.out);
    assert.equal(info.classes, 2);
    assert.equal(info.trainable, 'lora');
    // Width 16, rank 2, two layers: q, k, v 3·2·32, attn-out 2·32, mlp-in and mlp-out 2·80 each; the head's 2·(16+2).
    assert.equal(info.trainableParameters, 2 * (3 * 64 + 64 + 160 + 160) + 2 * 18);
    // GPT-2 124M, 2 classes, rank 16 without the head among the targets: 12 layers of adapters (by hand: q, k, v
    // 3·16·1536, attn-out 16·1536, mlp-in and mlp-out 16·3840 each) and the head whole, 2·768.
    const noHead = await cli(['info', '--preset', 'gpt2', '--classes', '2', '--lora-rank', '16', '--lora-targets', 'q,k,v,attn-out,mlp-in,mlp-out', '--json']);
    assert.equal(noHead.code, 0, noHead.err);
    assert.equal(JSON.parse(noHead.out).trainableParameters, 12 * (3 * 16 * 1536 + 16 * 1536 + 2 * 16 * 3840) + 2 * 768);
    const g = await cli(['generate', '--model', runDir, '--prompt', 'hello']);
    assert.equal(g.code, 1);
    assert.match(g.err, /is a classifier \(classes fruit, tool\)/);
  });
});
