// LoRA on a classifier: new adapters (B = 0) leave the class logits as they were, the head's adapter adds exactly
// (h·A·B)·alpha/rank, only the adapters (and a head that is not adapted) train while the base keeps its bytes, a
// checkpoint is an adapter folder over the base that classify loads, merging gives the same logits, PEFT export
// and import round-trip bit for bit with the head as modules_to_save, a cancelled run resumes exactly, and an
// adapter is refused on any other base.
import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  Classifier, classifierHead, classifierLoraCount, classify, exportClassifierPeft, finetuneClassifier, importClassifierPeft, isClassifierFolder,
  loadAdaptedClassifier, loadClassifier, loadClassifierBody, mergeClassifier, planClassifier, writeClassifierFiles,
} from '../../../../src/core/classify';
import type { ClassifyOptions } from '../../../../src/core/classify';
import { readSafetensors, requireLanguageModel, saveModel, writeSafetensors } from '../../../../src/core/checkpoint';
import { initEngine, tf } from '../../../../src/core/engine';
import { attachNewAdapters, loadAnyModel, PEFT_CONFIG_FILE, PEFT_WEIGHTS_FILE, readAdapterMeta, resolveLoraOptions } from '../../../../src/core/lora';
import { makeConfig, PRESETS } from '../../../../src/core/model/config';
import { GptModel } from '../../../../src/core/model/gpt';
import type { TrainEvent } from '../../../../src/core/train/events';
import { toyTsv } from './toyData';

const SHAPE = { contextLength: 16, embDim: 16, nHeads: 2, nLayers: 2, dropRate: 0 };
const cfg = makeConfig('tiny', { ...SHAPE, vocabSize: 61 });
const ids = (): tf.Tensor2D => tf.tensor2d([[1, 5, 9, 2, 7, 30], [52, 0, 3, 3, 11, 4]], [2, 6], 'int32');
const LENGTHS = Int32Array.from([6, 4]);
const sha = async (file: string): Promise<string> => createHash('sha256').update(await fsp.readFile(file)).digest('hex');
const same = (a: Float32Array, b: Float32Array): boolean => a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

function logitsOf(c: Classifier): Float32Array {
  return tf.tidy(() => c.logits(ids(), LENGTHS)).dataSync() as Float32Array;
}

describe('LoRA on a classifier', function () {
  this.timeout(300_000);
  let root: string;
  let data: string;
  before(async () => {
    await initEngine('cpu');
  });
  beforeEach(async () => {
    root = await fsp.mkdtemp(path.join(os.tmpdir(), 'llmlab-clora-'));
    data = path.join(root, 'toy.tsv');
    await fsp.writeFile(data, toyTsv(30));
  });
  afterEach(async () => {
    await fsp.rm(root, { recursive: true, force: true });
  });

  /** A saved tiny base model (the body the classifier starts from). */
  async function savedBase(seed = 3, name = 'base'): Promise<string> {
    const dir = path.join(root, name);
    const m = GptModel.create(makeConfig('tiny', SHAPE), seed);
    await saveModel(dir, m);
    m.dispose();
    return dir;
  }

  const options = (extra: Partial<ClassifyOptions> = {}): ClassifyOptions => ({
    outDir: path.join(root, 'run'), dataFile: data, lr: 1e-2, epochs: 6, batchSize: 6, evalEvery: 0, checkpointEvery: 0, seed: 5,
    lora: { rank: 2, alpha: 4 }, ...extra,
  });

  it('counts the book’s 2,666,528 for GPT-2 124M, 2 classes, rank 16; a head left out of the targets trains whole', () => {
    assert.equal(classifierLoraCount(PRESETS.gpt2, resolveLoraOptions({ rank: 16 })!, 2), 2_666_528);
    // By hand: per layer q, k, v 3·16·(768+768), attn-out 16·1536, mlp-in and mlp-out 16·(768+3072) each; 12 layers;
    // then the head whole: 2·768.
    const perLayer = 3 * 16 * 1536 + 16 * 1536 + 2 * 16 * 3840;
    const noHead = resolveLoraOptions({ rank: 16, targets: ['q', 'k', 'v', 'attn-out', 'mlp-in', 'mlp-out'] })!;
    assert.equal(classifierLoraCount(PRESETS.gpt2, noHead, 2), 12 * perLayer + 2 * 768);
  });

  it('with B = 0 leaves the class logits bit for bit; the head’s adapter adds exactly (h·A·B)·alpha/rank', () => {
    const c = Classifier.withNewHead(GptModel.create(cfg, 1), ['a', 'b', 'c'], 1);
    const before = logitsOf(c);
    const adapters = attachNewAdapters(c.body, resolveLoraOptions({ rank: 3, alpha: 5 })!, 1, classifierHead(3));
    assert.deepEqual(logitsOf(c), before);
    // Only the head's B made non-zero: the logits move by s·(h·A)·B, h the final hidden state at each last token.
    const head = adapters.bySite.get('lm_head')!;
    head.B.assign(tf.randomNormal([3, 3], 0, 0.5, 'float32', 7));
    const after = logitsOf(c);
    const hidden = tf.tidy(() => c.body.hidden(ids()).hidden.arraySync()) as number[][][];
    const A = head.A.arraySync() as number[][]; // (16, 3)
    const B = head.B.arraySync() as number[][]; // (3, 3)
    for (let b = 0; b < 2; b++) {
      const h = hidden[b][LENGTHS[b] - 1];
      for (let k = 0; k < 3; k++) {
        let d = 0;
        for (let r = 0; r < 3; r++) d += h.reduce((s, x, i) => s + x * A[i][r], 0) * B[r][k];
        assert.ok(Math.abs(after[b * 3 + k] - before[b * 3 + k] - (5 / 3) * d) < 1e-5, `row ${b} class ${k}`);
      }
    }
    c.dispose();
  });

  it('trains only the adapters: the base keeps its bytes, the adapted head stays as made, checkpoints are adapter folders classify loads', async () => {
    const baseDir = await savedBase();
    const baseSha = await sha(path.join(baseDir, 'model.safetensors'));
    const o = options({ modelDir: baseDir, checkpointEvery: 7, keepCheckpoints: 0 });
    const plan = await planClassifier(o);
    // By hand, width 16, rank 2, two layers: q, k, v 3·2·32, attn-out 2·32, mlp-in and mlp-out 2·80 each; head 2·(16+2).
    const want = 2 * (3 * 64 + 64 + 160 + 160) + 2 * 18;
    assert.equal(plan.trainableParameters, want);
    assert.equal(plan.trainable, 'lora');
    const events: TrainEvent[] = [];
    const r = await finetuneClassifier(o, { onEvent: (e) => events.push(e) });
    assert.equal(r.status, 'completed');
    const start = events.find((e) => e.type === 'start');
    assert.ok(start?.type === 'start' && start.trainableParameters === want);
    assert.equal(r.test!.accuracy, 1);
    const files = (await fsp.readdir(r.checkpointDir!)).sort();
    assert.ok(files.includes('adapter.json') && files.includes('adapter.safetensors') && !files.includes('model.safetensors'), files.join(', '));
    const meta = await readAdapterMeta(r.checkpointDir!);
    assert.equal(meta.base.model, path.resolve(baseDir));
    assert.deepEqual((meta.classifier as { labels: string[]; head: string }).labels, ['fruit', 'tool']);
    assert.equal((meta.classifier as { head: string }).head, 'adapter');
    // The base file is untouched, and the body under the adapters is the base, bit for bit.
    assert.equal(await sha(path.join(baseDir, 'model.safetensors')), baseSha);
    const base = (await readSafetensors(path.join(baseDir, 'model.safetensors'))).tensors;
    const loaded = await loadClassifier(path.join(root, 'run'));
    try {
      for (const [name, v] of loaded.classifier.body.params) assert.ok(same(v.dataSync() as Float32Array, base.get(name)!.data), `${name} kept its bytes`);
      const texts = ['apple pear plum', 'hammer saw drill'];
      assert.deepEqual((await classify(loaded, texts)).map((p) => p.label), ['fruit', 'tool']);
      assert.equal(loaded.classifierMeta?.trainable, 'lora');
    } finally {
      loaded.classifier.dispose();
    }
    // The adapted head stayed as made (equal in the first and the last checkpoint); its adapter trained.
    const first = (await readSafetensors(path.join(root, 'run', 'checkpoints', 'step-000007', 'adapter.safetensors'))).tensors;
    const last = (await readSafetensors(path.join(r.checkpointDir!, 'adapter.safetensors'))).tensors;
    assert.ok(same(first.get('score.weight')!.data, last.get('score.weight')!.data));
    assert.ok(!same(first.get('lm_head.lora_B')!.data, last.get('lm_head.lora_B')!.data));
    assert.ok(first.get('h.0.attn.c_attn.q.lora_B')!.data.some((x) => x !== 0));
    assert.equal(await isClassifierFolder(path.join(root, 'run')), true);
    // The language-model loaders see a classifier, which generation refuses.
    const lm = await loadAnyModel(path.join(root, 'run'));
    try {
      assert.deepEqual(lm.meta.classifierLabels, ['fruit', 'tool']);
      assert.throws(() => requireLanguageModel(lm, 'use classify'), /is a classifier/);
    } finally {
      lm.model.dispose();
    }
  });

  it('trains a head left out of the targets whole', async () => {
    const baseDir = await savedBase();
    const o = options({ modelDir: baseDir, epochs: 2, checkpointEvery: 7, keepCheckpoints: 0, lora: { rank: 2, targets: ['q', 'v'] } });
    const p = await planClassifier(o);
    assert.equal(p.trainableParameters, 2 * 2 * (2 * 32) + 2 * 16);
    const r = await finetuneClassifier(o);
    const first = (await readSafetensors(path.join(root, 'run', 'checkpoints', 'step-000007', 'adapter.safetensors'))).tensors;
    const last = (await readSafetensors(path.join(r.checkpointDir!, 'adapter.safetensors'))).tensors;
    assert.ok(!same(first.get('score.weight')!.data, last.get('score.weight')!.data), 'the head trains');
    assert.ok(!last.has('lm_head.lora_A'));
    assert.equal(((await readAdapterMeta(r.checkpointDir!)).classifier as { head: string }).head, 'whole');
  });

  it('merges into a plain Hugging Face classifier whose logits equal base + adapter + head', async () => {
    const baseDir = await savedBase();
    await finetuneClassifier(options({ modelDir: baseDir, epochs: 2 }));
    const a = await loadAdaptedClassifier(path.join(root, 'run'));
    const mergedDir = path.join(root, 'merged');
    try {
      const adapted = logitsOf(a.classifier);
      const adapter = a.classifier.body.adapter;
      a.classifier.body.adapter = undefined;
      const bare = logitsOf(a.classifier);
      a.classifier.body.adapter = adapter;
      assert.ok(Math.max(...bare.map((x, i) => Math.abs(x - adapted[i]))) > 1e-3, 'the adapters change the logits');
      const merged = await mergeClassifier(a.classifier, a.adapters);
      try {
        assert.equal(merged.body.adapter, undefined);
        await fsp.mkdir(mergedDir);
        await writeClassifierFiles(mergedDir, merged, 50256, { trainable: 'lora', trainableParameters: 0, maxLength: 16 });
      } finally {
        merged.dispose();
      }
      const plain = await loadClassifier(mergedDir);
      try {
        const again = logitsOf(plain.classifier);
        const worst = Math.max(...again.map((x, i) => Math.abs(x - adapted[i])));
        assert.ok(worst < 1e-4, `merged logits differ by ${worst}`);
      } finally {
        plain.classifier.dispose();
      }
      const keys = [...(await readSafetensors(path.join(mergedDir, 'model.safetensors'))).tensors.keys()];
      assert.ok(keys.includes('score.weight') && keys.every((k) => k === 'score.weight' || k.startsWith('transformer.')), keys.join(', '));
      const config = JSON.parse(await fsp.readFile(path.join(mergedDir, 'config.json'), 'utf8'));
      assert.deepEqual(config.architectures, ['GPT2ForSequenceClassification']);
    } finally {
      a.classifier.dispose();
    }
  });

  for (const targets of [undefined, ['q', 'k', 'v', 'mlp-out'] as const]) {
    it(`exports to PEFT with the head as modules_to_save and imports back bit for bit (${targets ? 'head whole' : 'head adapted'})`, async () => {
      const baseDir = await savedBase();
      const r = await finetuneClassifier(options({ modelDir: baseDir, epochs: 1, lora: { rank: 2, alpha: 3, ...(targets ? { targets: [...targets] } : {}) } }));
      const meta = await readAdapterMeta(r.checkpointDir!);
      const peftDir = path.join(root, 'peft');
      await exportClassifierPeft(r.checkpointDir!, meta, peftDir);
      const config = JSON.parse(await fsp.readFile(path.join(peftDir, PEFT_CONFIG_FILE), 'utf8'));
      assert.deepEqual(config.modules_to_save, ['score']);
      assert.equal(config.task_type, 'SEQ_CLS');
      const ours = (await readSafetensors(path.join(r.checkpointDir!, 'adapter.safetensors'))).tensors;
      const peft = (await readSafetensors(path.join(peftDir, PEFT_WEIGHTS_FILE))).tensors;
      // PEFT's score is the head with its adapter's correction: W + (alpha/rank)·(A·B)ᵀ, computed here by hand.
      const W = ours.get('score.weight')!.data;
      const score = peft.get('base_model.model.score.weight')!;
      assert.deepEqual(score.shape, [2, 16]);
      for (let k = 0; k < 2; k++) {
        for (let i = 0; i < 16; i++) {
          let want = W[k * 16 + i];
          if (!targets) for (let q = 0; q < 2; q++) want += 1.5 * ours.get('lm_head.lora_A')!.data[i * 2 + q] * ours.get('lm_head.lora_B')!.data[q * 2 + k];
          assert.ok(Math.abs(score.data[k * 16 + i] - want) < 1e-6);
        }
      }
      assert.ok(![...peft.keys()].some((n) => n.includes('lm_head')), 'the head leaves as modules_to_save only');
      const back = path.join(root, 'imported');
      const body = await loadClassifierBody(baseDir);
      try {
        const got = await importClassifierPeft(peftDir, body.model, baseDir, back, { tokenizer: 'gpt2' });
        assert.deepEqual(got.labels, ['fruit', 'tool']);
      } finally {
        body.model.dispose();
      }
      const again = (await readSafetensors(path.join(back, 'adapter.safetensors'))).tensors;
      assert.deepEqual([...again.keys()].sort(), [...ours.keys()].sort());
      for (const [name, t] of ours) assert.ok(same(t.data, again.get(name)!.data), `${name} round-trips bit for bit`);
      const m2 = await readAdapterMeta(back);
      assert.equal(m2.base.fingerprint, meta.base.fingerprint);
      assert.equal((m2.classifier as { head: string }).head, targets ? 'whole' : 'adapter');
    });
  }

  it('keeps a PEFT head that changed after export whole', async () => {
    const baseDir = await savedBase();
    const r = await finetuneClassifier(options({ modelDir: baseDir, epochs: 1 }));
    const peftDir = path.join(root, 'peft');
    await exportClassifierPeft(r.checkpointDir!, await readAdapterMeta(r.checkpointDir!), peftDir);
    // Train the head further "in PEFT": rewrite score with one value changed, keeping the metadata.
    const file = path.join(peftDir, PEFT_WEIGHTS_FILE);
    const { tensors, metadata } = await readSafetensors(file);
    const changed = tensors.get('base_model.model.score.weight')!.data.slice();
    changed[0] += 0.25;
    await writeSafetensors(file, [...tensors].map(([name, t]) => ({ name, shape: t.shape, data: name === 'base_model.model.score.weight' ? changed : t.data })), metadata);
    const body = await loadClassifierBody(baseDir);
    try {
      await importClassifierPeft(peftDir, body.model, baseDir, path.join(root, 'imported'), { tokenizer: 'gpt2' });
    } finally {
      body.model.dispose();
    }
    const again = (await readSafetensors(path.join(root, 'imported', 'adapter.safetensors'))).tensors;
    assert.ok(same(again.get('score.weight')!.data, changed));
    assert.ok(!again.has('lm_head.lora_A'));
  });

  it('resumes a cancelled LoRA run from a preset bit for bit (its base kept in <out>/base)', async () => {
    const o = (out: string, extra: Partial<ClassifyOptions> = {}): ClassifyOptions =>
      options({ outDir: path.join(root, out), preset: 'tiny', model: SHAPE, epochs: 2, evalEvery: 5, ...extra });
    const whole = await finetuneClassifier(o('whole'));
    const ctl = new AbortController();
    const first = await finetuneClassifier(o('parts'), {
      signal: ctl.signal,
      onEvent: (e) => {
        if (e.type === 'step' && e.step === 6) ctl.abort();
      },
    });
    assert.equal(first.status, 'cancelled');
    assert.ok((await fsp.readdir(path.join(root, 'parts', 'base'))).includes('model.safetensors'));
    const rest = await finetuneClassifier({ outDir: path.join(root, 'parts'), dataFile: data, resume: true });
    assert.equal(rest.status, 'completed');
    assert.equal(rest.step, whole.step);
    const losses = async (dir: string): Promise<number[]> =>
      (await fsp.readFile(path.join(root, dir, 'metrics.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l)).filter((e) => e.type === 'step').map((e) => e.loss);
    assert.deepEqual(await losses('parts'), await losses('whole'));
    assert.ok((await fsp.readFile(path.join(whole.checkpointDir!, 'adapter.safetensors'))).equals(await fsp.readFile(path.join(rest.checkpointDir!, 'adapter.safetensors'))));
    assert.deepEqual(rest.test, whole.test);
  });

  it('refuses the adapter on another base, and refuses trainable with LoRA', async () => {
    const baseDir = await savedBase();
    await finetuneClassifier(options({ modelDir: baseDir, epochs: 1 }));
    const other = await savedBase(4, 'other');
    await assert.rejects(loadAdaptedClassifier(path.join(root, 'run'), other), /trained on other base weights than those in .*other.*load it onto the base it was made with/);
    // The recorded base changed in place.
    await fsp.rm(baseDir, { recursive: true });
    await fsp.cp(other, baseDir, { recursive: true });
    await assert.rejects(loadClassifier(path.join(root, 'run')), /trained on other base weights/);
    await fsp.rm(baseDir, { recursive: true });
    await assert.rejects(loadClassifier(path.join(root, 'run')), /needs its base model .* which does not exist/);
    await assert.rejects(planClassifier(options({ modelDir: other, trainable: 'all' })), /Choose what trains .* or LoRA adapters, not both/);
  });
});
