// The classifier head reads the hidden state of each row's last real token, not the padding after it: a
// hand-worked batch through a model whose blocks add nothing (so the hidden state is the final LayerNorm of
// the token embedding), the same logits for a padded row as for the row alone, and the trained-parameter sets.
import * as assert from 'node:assert/strict';
import { Classifier } from '../../../../src/core/classify/model';
import type { ClassBatch } from '../../../../src/core/classify/model';
import { padRows } from '../../../../src/core/classify/dataset';
import { initEngine, tf } from '../../../../src/core/engine';
import { makeConfig } from '../../../../src/core/model/config';
import { GptModel } from '../../../../src/core/model/gpt';

/** A 1-block model of width 2 whose block weights are all zero: x stays wte[token] (wpe is zero too). */
function handModel(): Classifier {
  const cfg = makeConfig('tiny', { vocabSize: 4, contextLength: 4, embDim: 2, nHeads: 1, nLayers: 1, dropRate: 0 });
  const body = GptModel.create(cfg, 1);
  for (const [name, v] of body.params) {
    if (name === 'wte.weight') v.assign(tf.tensor2d([[0, 0], [1, 0], [0, 1], [5, -5]]));
    else if (/ln_(1|2|f)\.weight$/.test(name)) v.assign(tf.onesLike(v));
    else v.assign(tf.zerosLike(v));
  }
  return new Classifier(body, tf.variable(tf.tensor2d([[1, 0], [0, 2]])), ['zero', 'one']);
}

describe('classifier model', () => {
  before(async () => {
    await initEngine('cpu');
  });

  it('reads the last real token of each padded row (worked by hand)', async () => {
    const c = handModel();
    try {
      // LayerNorm of [1, 0] is [a, −a] with a = 0.5/√(0.25 + 1e-5); of [0, 1] it is [−a, a]; of the pad [5, −5] it is ≈ [1, −1].
      const a = 0.5 / Math.sqrt(0.25 + 1e-5);
      // Row 0: tokens 1 2 | pad pad, length 2 → token 2 → logits [−a, 2a]. Row 1: 2 1 1 | pad, length 3 → token 1 → [a, −2a].
      const p = padRows([[1, 2], [2, 1, 1]], [1, 0], 4, 3);
      assert.deepEqual([...p.ids], [1, 2, 3, 3, 2, 1, 1, 3]);
      const logits = c.logits(tf.tensor2d(p.ids, [2, 4], 'int32'), p.lengths);
      const got = [...(await logits.data())];
      logits.dispose();
      const want = [-a, 2 * a, a, -2 * a];
      got.forEach((v, i) => assert.ok(Math.abs(v - want[i]) < 1e-5, `logit ${i}: ${v} vs ${want[i]}`));
      // Read at the last position instead (padding), row 0 would give ≈ [1, −2]: the test tells the two apart.
      assert.ok(Math.abs(got[0] - 1) > 1.9);
      // The loss of targets [1, 0]: each row's cross-entropy is log(1 + e^(−3a)).
      const batch: ClassBatch = { ids: p.ids, lengths: p.lengths, targets: p.targets, batchSize: 2, seqLen: 4 };
      const loss = c.loss(batch, 0, 2);
      assert.ok(Math.abs((await loss.data())[0] - Math.log(1 + Math.exp(-3 * a))) < 1e-5);
      loss.dispose();
    } finally {
      c.dispose();
    }
  });

  it('gives a padded row the logits of the row alone (random weights, rows cut to the batch\'s longest)', async () => {
    const cfg = makeConfig('tiny', { vocabSize: 40, contextLength: 12, embDim: 16, nHeads: 2, nLayers: 2, dropRate: 0 });
    const c = Classifier.withNewHead(GptModel.create(cfg, 4), ['a', 'b', 'c'], 4);
    try {
      const texts = [[3, 9, 27, 5, 11], [8, 1], [30, 31, 2, 2, 2, 7, 19]];
      const p = padRows(texts, [0, 1, 2], 12, 39);
      const batch = { ids: p.ids, lengths: p.lengths, targets: p.targets, batchSize: 3, seqLen: 12 };
      const rows = Classifier.rows(batch, 0, 3);
      assert.deepEqual(rows.ids.shape, [3, 7]);
      const together = c.logits(rows.ids, rows.lengths);
      const t = await together.data();
      for (let i = 0; i < texts.length; i++) {
        const alone = c.logits(tf.tensor2d([texts[i]], [1, texts[i].length], 'int32'), Int32Array.of(texts[i].length));
        const a = await alone.data();
        for (let k = 0; k < 3; k++) assert.ok(Math.abs(a[k] - t[i * 3 + k]) < 1e-5, `row ${i} class ${k}: ${t[i * 3 + k]} vs alone ${a[k]}`);
        alone.dispose();
      }
      tf.dispose([together, rows.ids]);
    } finally {
      c.dispose();
    }
  });

  it('names what each --trainable choice trains', () => {
    const cfg = makeConfig('tiny', { vocabSize: 40, contextLength: 8, embDim: 8, nHeads: 2, nLayers: 3, dropRate: 0 });
    const c = Classifier.withNewHead(GptModel.create(cfg, 1), ['a', 'b'], 1);
    try {
      assert.deepEqual([...c.trainableNames('head')], ['score.weight']);
      const last = c.trainableNames('last-block');
      assert.ok(last.has('score.weight') && last.has('ln_f.weight') && last.has('ln_f.bias') && last.has('h.2.mlp.c_fc.weight'));
      assert.ok(![...last].some((n) => n.startsWith('h.0.') || n.startsWith('h.1.') || n.startsWith('wte') || n.startsWith('wpe')));
      const two = c.trainableNames('last-2');
      assert.ok(two.has('h.1.attn.c_attn.weight') && !two.has('h.0.attn.c_attn.weight'));
      assert.equal(c.trainableNames('all').size, c.params.size);
      assert.throws(() => c.trainableNames('last-4'), /has 3 block\(s\); use last-1 … last-3/);
    } finally {
      c.dispose();
    }
  });
});
