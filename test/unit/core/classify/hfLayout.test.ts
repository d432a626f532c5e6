// The Hugging Face GPT2ForSequenceClassification layout: a classifier made by an independent PyTorch script in that
// layout loads here and gives its logits; ours is written with `transformer.*` body tensors, `score.weight`
// [classes, width], id2label/label2id/pad_token_id, and reads back to the same logits; a plain language model is
// refused as a classifier while a classifier's body loads as a model.
import * as assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadClassifierWeights, writeClassifierFiles } from '../../../../src/core/classify/files';
import { Classifier } from '../../../../src/core/classify/model';
import { loadModel } from '../../../../src/core/checkpoint/modelFiles';
import { readSafetensorsHeader } from '../../../../src/core/checkpoint/safetensors';
import { initEngine, tf } from '../../../../src/core/engine';
import { makeConfig } from '../../../../src/core/model/config';
import { GptModel } from '../../../../src/core/model/gpt';

const FIXTURES = path.resolve(__dirname, '../../../../../test/fixtures');

describe('classifier files (Hugging Face layout)', () => {
  let root: string;
  before(async () => {
    await initEngine('cpu');
  });
  beforeEach(async () => {
    root = await fsp.mkdtemp(path.join(os.tmpdir(), 'llmlab-classifier-'));
  });
  afterEach(async () => {
    await fsp.rm(root, { recursive: true, force: true });
  });

  it('loads a classifier written by an independent PyTorch script and gives its logits', async () => {
    const dir = path.join(FIXTURES, 'gpt2Classifier');
    const expected = JSON.parse(await fsp.readFile(path.join(dir, 'expected.json'), 'utf8')) as { rows: number[][]; lengths: number[]; logits: number[][] };
    const w = await loadClassifierWeights(dir);
    try {
      assert.deepEqual(w.labels, ['negative', 'neutral', 'positive']);
      assert.equal(w.config.nLayers, 2);
      const ids = tf.tensor2d(expected.rows.flat(), [expected.rows.length, expected.rows[0].length], 'int32');
      const logits = w.classifier.logits(ids, Int32Array.from(expected.lengths));
      const got = await logits.data();
      expected.logits.flat().forEach((v, i) => assert.ok(Math.abs(got[i] - v) < 1e-4, `logit ${i}: ${got[i]} vs PyTorch ${v}`));
      tf.dispose([ids, logits]);
    } finally {
      w.classifier.dispose();
    }
  });

  it('writes our classifier in that layout and reads it back to the same weights and logits', async () => {
    const cfg = makeConfig('tiny', { vocabSize: 50, contextLength: 8, embDim: 12, nHeads: 3, nLayers: 2, dropRate: 0, qkvBias: false });
    const c = Classifier.withNewHead(GptModel.create(cfg, 9), ['ham', 'spam', 'eggs'], 9);
    try {
      await writeClassifierFiles(root, c, 49, { trainable: 'last-block', trainableParameters: 1234, maxLength: 7 }, { step: 5 });
      const config = JSON.parse(await fsp.readFile(path.join(root, 'config.json'), 'utf8'));
      assert.deepEqual(config.architectures, ['GPT2ForSequenceClassification']);
      assert.deepEqual(config.id2label, { 0: 'ham', 1: 'spam', 2: 'eggs' });
      assert.deepEqual(config.label2id, { ham: 0, spam: 1, eggs: 2 });
      assert.equal(config.pad_token_id, 49);
      assert.equal(config.n_embd, 12);
      assert.deepEqual(config.llm_lab.classifier, { trainable: 'last-block', trainableParameters: 1234, maxLength: 7 });
      const header = await readSafetensorsHeader(path.join(root, 'model.safetensors'));
      const names = [...header.tensors.keys()];
      assert.deepEqual(header.tensors.get('score.weight')!.shape, [3, 12]);
      assert.ok(names.every((n) => n === 'score.weight' || n.startsWith('transformer.')), names.join(', '));
      assert.ok(names.includes('transformer.h.1.attn.c_attn.bias'), 'a zero qkv bias is written for transformers');
      assert.ok(!names.some((n) => n.includes('lm_head')));

      const back = await loadClassifierWeights(root);
      try {
        assert.deepEqual(back.labels, ['ham', 'spam', 'eggs']);
        assert.deepEqual(back.classifierMeta, { trainable: 'last-block', trainableParameters: 1234, maxLength: 7 });
        for (const [name, v] of c.params) {
          assert.deepEqual(await back.classifier.params.get(name)!.data(), await v.data(), name);
        }
        const ids = tf.tensor2d([[1, 2, 3, 49], [4, 5, 49, 49]], [2, 4], 'int32');
        const a = c.logits(ids, Int32Array.of(3, 2));
        const b = back.classifier.logits(ids, Int32Array.of(3, 2));
        assert.deepEqual(await b.data(), await a.data());
        tf.dispose([ids, a, b]);
      } finally {
        back.classifier.dispose();
      }
      // Where a model is expected, the classifier's body loads and says what it is.
      const body = await loadModel(root);
      assert.deepEqual(body.meta.classifierLabels, ['ham', 'spam', 'eggs']);
      assert.equal(body.model.params.has('score.weight'), false);
      body.model.dispose();
    } finally {
      c.dispose();
    }
  });

  it('refuses a language model as a classifier, saying how to make one', async () => {
    await assert.rejects(loadClassifierWeights(path.join(FIXTURES, 'gpt2Reference')), /holds a language model, not a classifier .*llm-lab finetune classify/);
  });

  it('refuses a head whose shape does not match config.json', async () => {
    const dir = path.join(root, 'bad');
    await fsp.mkdir(dir);
    const src = path.join(FIXTURES, 'gpt2Classifier');
    await fsp.copyFile(path.join(src, 'model.safetensors'), path.join(dir, 'model.safetensors'));
    const config = JSON.parse(await fsp.readFile(path.join(src, 'config.json'), 'utf8'));
    config.id2label = { 0: 'a', 1: 'b' };
    await fsp.writeFile(path.join(dir, 'config.json'), JSON.stringify(config));
    await assert.rejects(loadClassifierWeights(dir), /'score.weight' has shape \[3,24\] but config.json's 2 classes and width 24 need \[2, 24\]/);
  });
});
