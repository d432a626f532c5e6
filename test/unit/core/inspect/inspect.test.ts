import * as assert from 'node:assert/strict';
import { initEngine, tf } from '../../../../src/core/engine';
import { attentionMaps, modelInfo } from '../../../../src/core/inspect';
import { PRESETS } from '../../../../src/core/model/config';
import { sharpModel, ToyTokenizer, toyConfig } from '../generate/helpers';

describe('inspect', () => {
  before(async () => {
    await initEngine('cpu');
  });

  it('gives per layer per head causal T×T maps whose rows sum to 1, and the tokens', async () => {
    const model = sharpModel(2);
    const tok = new ToyTokenizer();
    const before = tf.memory().numTensors;
    const m = await attentionMaps(model, tok, 'cafés');
    assert.equal(tf.memory().numTensors, before);
    assert.deepEqual(m.tokens, ['c', 'a', 'f', '\uFFFD', '\uFFFD', 's']);
    const T = 6;
    assert.equal(m.layers.length, toyConfig.nLayers);
    for (const layer of m.layers) {
      assert.equal(layer.length, toyConfig.nHeads);
      for (const w of layer) {
        assert.equal(w.length, T * T);
        for (let i = 0; i < T; i++) {
          let sum = 0;
          for (let j = 0; j < T; j++) {
            if (j > i) assert.ok(w[i * T + j] < 1e-6, 'no weight on later positions');
            sum += w[i * T + j];
          }
          assert.ok(Math.abs(sum - 1) < 1e-5);
        }
      }
    }
    // Position 0 can only attend to itself.
    assert.ok(Math.abs(m.layers[1][0][0] - 1) < 1e-6);
    // The maps are this model's: they match a forward pass with returnAttention.
    const input = tf.tensor2d([m.ids], [1, T], 'int32');
    const r = model.forward(input, { returnAttention: true });
    const ref = tf.reshape(tf.slice(r.attention![1], [0, 1], [1, 1]), [T * T]); // (T·T) of layer 1, head 1
    assert.deepEqual(Array.from(ref.dataSync()), Array.from(m.layers[1][1]));
    tf.dispose([input, r.logits, ...r.attention!, ref]);
    assert.equal(m.truncated, false);
    assert.equal((await attentionMaps(model, tok, 'abcdefghijkl')).tokens.length, toyConfig.contextLength);
    model.dispose();
  });

  it('modelInfo counts the parameters and estimates memory of a preset', () => {
    const info = modelInfo(PRESETS.gpt2, { batchSize: 2 });
    assert.equal(info.parameters, 124_439_808); // GPT-2 small's published count, its head tied
    // Worked by hand for GPT-2 small (V 50,257, T 1,024, C 768, 12 heads, 12 layers), 4-byte floats, batch 2:
    //   weights      124,439,808 × 4                                                  =    497,759,232
    //   per layer    34·B·T·C + 5·H·B·T² = 53,477,376 + 125,829,120                  =    179,306,496
    //   activations  4 × (12 × 179,306,496 + 3·B·T·V 308,779,008 + 4·B·T·C 6,291,456) =  9,866,993,664
    //   training     weights, gradients and AdamW's two moments (4 × weights) + activations = 11,858,030,592
    //   inference    (batch 1) weights + 4 × (T·(6·C + H·T) 17,301,504 + T·V 51,463,168)   =    772,817,920
    assert.equal(info.training.weightsBytes, 497_759_232);
    assert.equal(info.training.gradientsBytes, 497_759_232);
    assert.equal(info.training.optimizerBytes, 995_518_464);
    assert.equal(info.training.activationsBytes, 9_866_993_664);
    assert.equal(info.training.trainingBytes, 11_858_030_592);
    assert.equal(info.inferenceBytes, 772_817_920);
    assert.ok(info.training.trainingBytes > info.inferenceBytes);
    const model = sharpModel(1);
    assert.equal(modelInfo(model).parameters, [...model.params.values()].reduce((s, v) => s + v.size, 0));
    model.dispose();
  });
});
