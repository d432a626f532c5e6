import * as assert from 'node:assert/strict';
import { initEngine, tf } from '../../../../src/core/engine';
import { attentionMaps, modelInfo } from '../../../../src/core/inspect';
import { countParameters, estimateMemory, PRESETS } from '../../../../src/core/model/config';
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
    assert.equal(info.parameters, 124_439_808);
    assert.equal(info.parameters, countParameters(PRESETS.gpt2));
    assert.deepEqual(info.training, estimateMemory(PRESETS.gpt2, 2));
    assert.equal(info.inferenceBytes, estimateMemory(PRESETS.gpt2, 1).inferenceBytes);
    assert.ok(info.training.trainingBytes > info.inferenceBytes);
    const model = sharpModel(1);
    assert.equal(modelInfo(model).parameters, [...model.params.values()].reduce((s, v) => s + v.size, 0));
    model.dispose();
  });
});
