// The panel shows attention from a real GptModel: the per-layer (B, H, T, T) weights of a forward pass,
// carried through the session, arrive as a message the panel accepts, causal and row-normalised.
import * as assert from 'node:assert/strict';
import { initEngine, tf } from '../../../../src/core/engine';
import { makeConfig } from '../../../../src/core/model/config';
import { GptModel } from '../../../../src/core/model/gpt';
import type { AttentionMaps } from '../../../../src/extension/panel/backend';
import { PanelSession } from '../../../../src/extension/panel/session';
import type { ToPanelMessage } from '../../../../src/protocol/panel';
import { parseToPanel } from '../../../../src/protocol/panel';
import { FakeBackend, FakeEditor } from './fakeBackend';

/** Attention of one sequence as layers[l][h] T×T matrices, no tensor left behind. */
function attentionOf(model: GptModel, ids: number[]): AttentionMaps['layers'] {
  const input = tf.tensor2d([ids], [1, ids.length], 'int32'); // (1, T)
  const { logits, attention } = model.forward(input, { returnAttention: true });
  const layers = (attention ?? []).map((a) => {
    const [, H, T] = a.shape; // (1, H, T, T)
    const flat = a.dataSync() as Float32Array;
    return Array.from({ length: H }, (_, h) => flat.slice(h * T * T, (h + 1) * T * T));
  });
  tf.dispose([input, logits, ...(attention ?? [])]);
  return layers;
}

describe('panel attention from a GptModel', () => {
  before(async () => {
    await initEngine('cpu');
  });

  it('arrives as a valid, causal, row-normalised attention message, leaking no tensors', async () => {
    const cfg = makeConfig('tiny', { vocabSize: 40, contextLength: 8, embDim: 16, nHeads: 2, nLayers: 3 });
    const model = GptModel.create(cfg, 3);
    const before = tf.memory().numTensors;
    const ids = [5, 9, 1, 33, 7];
    const layers = attentionOf(model, ids);
    assert.equal(tf.memory().numTensors, before);
    model.dispose();

    const backend = new FakeBackend();
    backend.attentionResult = { tokens: ids.map((i) => `t${i}`), layers };
    const posted: ToPanelMessage[] = [];
    const session = new PanelSession(backend, new FakeEditor(), (m) => posted.push(m));
    session.receive({ type: 'ready', body: {} });
    session.receive({ type: 'attention/request', body: { requestId: 'm1', text: 'x' } });
    await new Promise((r) => setImmediate(r));
    const m = posted.find((p) => p.type === 'attention/didCompute');
    assert.ok(m, 'the session posted the maps');
    const parsed = parseToPanel(m);
    assert.ok(parsed.ok, parsed.ok ? '' : parsed.error);
    assert.ok(m.type === 'attention/didCompute');
    const T = ids.length;
    assert.equal(m.body.weights.length, 3);
    for (const heads of m.body.weights) {
      assert.equal(heads.length, 2);
      for (const w of heads) {
        for (let i = 0; i < T; i++) {
          let sum = 0;
          for (let j = 0; j < T; j++) {
            if (j > i) assert.equal(w[i * T + j], 0, `a token attends to a later one at (${i}, ${j})`);
            sum += w[i * T + j];
          }
          assert.ok(Math.abs(sum - 1) <= T * 0.5e-4 + 1e-6, `row ${i} sums to ${sum}`); // each weight rounded to 4 decimals
        }
      }
    }
    session.dispose();
  });
});
