import * as assert from 'node:assert/strict';
import { initEngine, tf } from '../../../../src/core/engine';
import { makeConfig, PRESETS } from '../../../../src/core/model/config';
import { GptModel } from '../../../../src/core/model/gpt';
import { DEFAULT_LORA_TARGETS, LoraAdapters, loraParameterCount, loraSites, mergeLora, parseLoraTargets } from '../../../../src/core/lora';
import { isLlmLabError } from '../../../../src/core/errors';
import { batch, cfg, randomizeB } from './helpers';

function logitsOf(model: GptModel): Float32Array {
  return tf.tidy(() => model.forward(batch()).logits).dataSync() as Float32Array;
}

describe('LoRA adapters', () => {
  before(async () => {
    await initEngine('cpu');
  });

  it('counts the book’s 2,666,528 trainable values for GPT-2 124M with a 2-class head at rank 16', () => {
    const sites = loraSites(PRESETS.gpt2, DEFAULT_LORA_TARGETS, { outDim: 2, param: 'score.weight' });
    assert.equal(sites.length, 12 * 6 + 1);
    assert.equal(loraParameterCount(sites, 16), 2_666_528);
    // By hand for the tiny config at rank 2: per layer q,k,v 3·2·32, attn-out 2·32, mlp-in and mlp-out 2·80 each.
    const tiny = loraSites(cfg, parseLoraTargets('all'));
    assert.equal(loraParameterCount(tiny, 2), 2 * (3 * 64 + 64 + 160 + 160) + 2 * (16 + 53));
  });

  it('parses target lists and refuses unknown targets', () => {
    assert.deepEqual(parseLoraTargets('v, q'), ['q', 'v']);
    assert.deepEqual(parseLoraTargets('qkv,head'), ['q', 'k', 'v', 'head']);
    assert.deepEqual(parseLoraTargets('all'), [...DEFAULT_LORA_TARGETS]);
    assert.throws(() => parseLoraTargets('q,wte'), (e) => isLlmLabError(e) && /'wte'.*q, k, v, attn-out, mlp-in, mlp-out, head/.test(e.message));
    assert.throws(() => parseLoraTargets(' , '), (e) => isLlmLabError(e) && /at least one/.test(e.message));
  });

  it('starts A Kaiming-uniform within ±1/√rank and B at zero, the same for the same seed', () => {
    const sites = loraSites(cfg, ['mlp-out']);
    const a = LoraAdapters.create(sites, { rank: 4, alpha: 8 }, 3);
    const b = LoraAdapters.create(sites, { rank: 4, alpha: 8 }, 3);
    const A = a.bySite.get('h.0.mlp.c_proj')!.A.dataSync();
    assert.deepEqual(a.bySite.get('h.0.mlp.c_proj')!.A.shape, [64, 4]);
    const bound = 1 / Math.sqrt(4);
    assert.ok(A.every((x) => Math.abs(x) <= bound));
    assert.ok(Math.max(...A.map(Math.abs)) > 0.9 * bound, 'spread over the whole range');
    assert.deepEqual(A, b.bySite.get('h.0.mlp.c_proj')!.A.dataSync());
    assert.ok(a.bySite.get('h.1.mlp.c_proj')!.B.dataSync().every((x) => x === 0));
    a.dispose();
    b.dispose();
  });

  it('with B = 0 leaves every output bit for bit unchanged', () => {
    const model = GptModel.create(cfg, 1);
    const before = logitsOf(model);
    const a = LoraAdapters.create(loraSites(cfg, DEFAULT_LORA_TARGETS), { rank: 3, alpha: 5 }, 1);
    model.adapter = a;
    assert.deepEqual(logitsOf(model), before);
    randomizeB(a, 1);
    const changed = logitsOf(model);
    assert.ok(changed.some((x, i) => Math.abs(x - before[i]) > 1e-3), 'a non-zero B does change them');
    a.dispose();
    model.dispose();
  });

  for (const targets of ['all', 'q,v', 'k,head', 'attn-out,mlp-in']) {
    it(`merged into the weights gives the adapted outputs (${targets})`, () => {
      const model = GptModel.create(cfg, 2);
      const a = LoraAdapters.create(loraSites(cfg, parseLoraTargets(targets)), { rank: 2, alpha: 3 }, 4);
      randomizeB(a, 2);
      model.adapter = a;
      const adapted = logitsOf(model);
      const merged = mergeLora(model, a);
      assert.equal(merged.adapter, undefined);
      assert.equal(merged.config.tiedHead, !parseLoraTargets(targets).includes('head'), 'an adapted tied head is untied on merge');
      const plain = logitsOf(merged);
      const worst = Math.max(...plain.map((x, i) => Math.abs(x - adapted[i])));
      assert.ok(worst < 1e-4, `merged differs by ${worst}`);
      // The base is untouched: without the adapter it gives its own outputs.
      model.adapter = undefined;
      assert.ok(logitsOf(model).some((x, i) => Math.abs(x - adapted[i]) > 1e-3));
      merged.dispose();
      a.dispose();
      model.dispose();
    });
  }

  it('adds (x·A·B)·alpha/rank to the layer’s output, as computed by hand', () => {
    // One site, the head of a 1-layer model: logits change by exactly s·(h·A·B), h the final hidden state.
    const c1 = makeConfig(cfg, { nLayers: 1 });
    const model = GptModel.create(c1, 5);
    const a = LoraAdapters.create(loraSites(c1, ['head']), { rank: 2, alpha: 6 }, 5);
    randomizeB(a, 5);
    const base = logitsOf(model);
    model.adapter = a;
    const adapted = logitsOf(model);
    // The hidden state h is the base logits' preimage; recover s·h·A·B from the merged head instead:
    // logits = h·Wᵀ + 3·h·A·B, so with W' = W + 3·(A·B)ᵀ the same h gives the adapted logits.
    const head = a.bySite.get('lm_head')!;
    const AB = tf.tidy(() => tf.matMul(head.A, head.B).arraySync() as number[][]); // (C, V)
    const wte = model.params.get('wte.weight')!.arraySync() as number[][]; // (V, C)
    const byHand = wte.map((row, v) => row.map((w, ch) => w + 3 * AB[ch][v]));
    model.adapter = undefined;
    const saved = model.params.get('wte.weight')!;
    const untied = GptModel.fromTensors({ ...c1, tiedHead: false }, new Map<string, tf.Tensor>([...model.params, ['lm_head.weight', tf.tensor2d(byHand)]]));
    const viaHand = logitsOf(untied);
    assert.ok(Math.max(...viaHand.map((x, i) => Math.abs(x - adapted[i]))) < 1e-4);
    assert.ok(Math.max(...base.map((x, i) => Math.abs(x - adapted[i]))) > 1e-3);
    assert.ok(!saved.isDisposed);
    untied.dispose();
    a.dispose();
    model.dispose();
  });
});
