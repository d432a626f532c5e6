// The backward pass that frees as it goes (engine/tape.ts): the same gradients as TensorFlow.js's own
// gradients(), nothing leaked, and intermediate gradients and saved tensors released during the walk instead of
// all at its end.
import * as assert from 'node:assert/strict';
import { initEngine, tf } from '../../../../src/core/engine';
import { registerGradients } from '../../../../src/core/engine/gradients';
import { nativeBackend } from '../../../../src/core/engine/native/backend';
import * as ops from '../../../../src/core/engine/ops';
import { installFreeingGradients, uninstallFreeingGradients } from '../../../../src/core/engine/tape';
import { makeConfig } from '../../../../src/core/model/config';
import { GptModel } from '../../../../src/core/model/gpt';
import { backendMissing } from '../backendRequired';

/** Runs `fn` with TensorFlow.js's own gradients() in place, then puts the freeing one back. */
function withTfGradients<T>(fn: () => T): T {
  uninstallFreeingGradients();
  try {
    return fn();
  } finally {
    installFreeingGradients();
  }
}

describe('engine tape: freeing backward pass', function () {
  before(async function () {
    await initEngine('cpu');
    assert.equal(registerGradients(), undefined);
  });

  for (const backend of ['cpu', 'native'] as const) {
    it(`gives the same loss and gradients as TensorFlow.js on a tied-head GPT on ${backend} (all weights, last block only), leaking nothing`, async function () {
      try {
        await initEngine(backend);
      } catch (e) {
        backendMissing(this, backend, e);
      }
      try {
        const config = makeConfig('tiny', { vocabSize: 61, contextLength: 8, embDim: 16, nHeads: 2, nLayers: 2, dropRate: 0, tiedHead: true });
        const model = GptModel.create(config, 3);
        const inputs = tf.tensor2d([[1, 5, 9, 60, 2, 2], [7, 0, 3, 3, 44, 12]], [2, 6], 'int32');
        const targets = tf.tensor2d([[5, 9, 60, 2, 2, 8], [0, 3, 3, 44, 12, -100]], [2, 6], 'int32');
        const lastBlock = [...model.params].filter(([name]) => name.startsWith('h.1.')).map(([, v]) => v);
        for (const vars of [model.trainableVariables(), lastBlock]) {
          const run = (): { loss: number; grads: Float32Array[] } => {
            const before = tf.memory().numTensors;
            const { value, grads } = tf.variableGrads(() => model.loss(inputs, targets), vars);
            const out = { loss: value.dataSync()[0], grads: vars.map((v) => grads[v.name].dataSync() as Float32Array) };
            tf.dispose([value, ...Object.values(grads)]);
            assert.equal(tf.memory().numTensors, before, 'tensors left behind by the backward pass');
            return out;
          };
          const ours = run();
          const theirs = withTfGradients(run);
          assert.equal(ours.loss, theirs.loss);
          ours.grads.forEach((g, i) => assert.deepEqual(g, theirs.grads[i], `gradient ${i} of ${vars.length}`));
        }
        tf.dispose([inputs, targets]);
        model.dispose();
      } finally {
        await initEngine('cpu');
      }
    });
  }

  it('on native, adds a second gradient of a tensor into the first one\'s buffer, with the right sum', async function () {
    try {
      await initEngine('native');
    } catch (e) {
      backendMissing(this, 'native', e);
    }
    try {
      const be = nativeBackend();
      let inPlace = 0;
      const addInto = be.addInto.bind(be);
      be.addInto = (t, s) => {
        const done = addInto(t, s);
        if (done) inPlace++;
        return done;
      };
      // f = Σ x·w1 + Σ x·w2 with w1 all 1 and w2 all 0.5 over 8 outputs: df/dx = 8 + 4 = 12 everywhere. x has
      // 300·256 values, so both gradients are native kernel outputs large enough to accumulate in place.
      const x = tf.variable(tf.fill([300, 256], 0.25));
      const w1 = tf.ones([256, 8]) as tf.Tensor2D;
      const w2 = tf.fill([256, 8], 0.5) as tf.Tensor2D;
      const { value, grads } = tf.variableGrads(() => {
        const t = tf.tanh(x); // (300, 256), used twice
        return tf.add(tf.sum(ops.linear(t, w1)), tf.sum(ops.linear(t, w2))) as tf.Scalar;
      }, [x]);
      const slope = 1 - Math.tanh(0.25) ** 2;
      const g = grads[x.name].dataSync();
      assert.ok(g.every((v) => Math.abs(v - 12 * slope) < 1e-5), `gradient ${g[0]}, expected ${12 * slope}`);
      assert.ok(inPlace >= 1, 'the two gradients of tanh(x) were added in place');
      be.addInto = addInto;
      tf.dispose([x, w1, w2, value, ...Object.values(grads)]);
    } finally {
      await initEngine('cpu');
    }
  });

  it('passes a caller-given dy through and leaves it alive; several outputs (split) and a reused input add up', function () {
    const x = tf.tensor1d([1, 2, 3, 4, 5, 6]);
    const dy = tf.tensor1d([1, -1, 2]);
    // y = a·b + a·a with [a, b] = split(x·x): dy/dx = 2x·(b + 2a) on a's half and 2x·a on b's half.
    const f = (t: tf.Tensor): tf.Tensor => {
      const [a, b] = tf.split(tf.mul(t, t), 2);
      return tf.add(tf.mul(a, b), tf.mul(a, a));
    };
    const g = tf.grads((t: tf.Tensor) => f(t))([x], dy)[0];
    // a = [1, 4, 9], b = [16, 25, 36]; d/da = (b + 2a)·dy = [18, -33, 108], d/db = a·dy = [1, -4, 18].
    const expected = [2 * 1 * 18, 2 * 2 * -33, 2 * 3 * 108, 2 * 4 * 1, 2 * 5 * -4, 2 * 6 * 18];
    assert.deepEqual(Array.from(g.dataSync()), expected);
    assert.deepEqual(Array.from(dy.dataSync()), [1, -1, 2], 'dy is still readable');
    tf.dispose([x, dy, g]);
  });

  it('frees each intermediate gradient and saved tensor once its node has run', function () {
    // A chain of 20 ops, each saving its input: at the first op's backward (the walk's last step), TensorFlow.js
    // still holds all 19 later gradients and 20 saved tensors; the freeing pass holds about one of each.
    const K = 20;
    let liveAtLastStep = -1;
    const step = (probe: boolean) =>
      tf.customGrad((x, save) => {
        (save as tf.GradSaveFunc)([x as tf.Tensor]);
        return {
          value: tf.mul(x as tf.Tensor, 2),
          gradFunc: (dy: tf.Tensor) => {
            if (probe) liveAtLastStep = tf.memory().numTensors;
            return tf.mul(dy, 2);
          },
        };
      });
    const first = step(true);
    const rest = step(false);
    const x = tf.variable(tf.ones([4]));
    const measure = (): number => {
      const before = tf.memory().numTensors;
      const { value, grads } = tf.variableGrads(() => {
        let y = first(x);
        for (let i = 1; i < K; i++) y = rest(y);
        return tf.sum(y);
      }, [x]);
      assert.deepEqual(Array.from(grads[x.name].dataSync()), [2 ** K, 2 ** K, 2 ** K, 2 ** K]);
      tf.dispose([value, ...Object.values(grads)]);
      return liveAtLastStep - before;
    };
    const ours = measure();
    const theirs = withTfGradients(measure);
    assert.ok(theirs >= 2 * K, `TensorFlow.js's own pass holds ${theirs} tensors at its last step`);
    assert.ok(ours <= 6, `the freeing pass holds ${ours} tensors at its last step (expected a handful, not ${theirs})`);
    x.dispose();
  });

  it('keeps no tape node, nor its saved tensors, for ops that no trained variable reaches (a frozen part)', function () {
    // 20 ops on a frozen input, each saving its input, then one op with the trained variable v. At the backward's
    // first step TensorFlow.js still holds the 20 saved tensors; the freeing pass dropped them as they were made.
    const K = 20;
    let liveAtFirstStep = -1;
    const frozenStep = tf.customGrad((x, save) => {
      (save as tf.GradSaveFunc)([x as tf.Tensor]);
      return { value: tf.mul(x as tf.Tensor, 2), gradFunc: (dy: tf.Tensor) => tf.mul(dy, 2) };
    });
    const probe = tf.customGrad((x, w, save) => {
      (save as tf.GradSaveFunc)([x as tf.Tensor, w as tf.Tensor]);
      return {
        value: tf.sum(tf.mul(x as tf.Tensor, w as tf.Tensor)),
        gradFunc: (dy: tf.Tensor, [sx, sw]: tf.Tensor[]) => {
          liveAtFirstStep = tf.memory().numTensors;
          return [tf.mul(dy, sw), tf.mul(dy, sx)];
        },
      };
    });
    const frozen = tf.ones([4]);
    const v = tf.variable(tf.fill([4], 3));
    const measure = (): number => {
      const before = tf.memory().numTensors;
      const { value, grads } = tf.variableGrads(() => {
        let y: tf.Tensor = frozen;
        for (let i = 0; i < K; i++) y = frozenStep(y);
        return probe(y, v) as tf.Scalar;
      }, [v]);
      assert.deepEqual(Array.from(grads[v.name].dataSync()), [2 ** K, 2 ** K, 2 ** K, 2 ** K]);
      assert.equal(value.dataSync()[0], 3 * 4 * 2 ** K);
      tf.dispose([value, ...Object.values(grads)]);
      assert.equal(tf.memory().numTensors, before, 'tensors left behind');
      return liveAtFirstStep - before;
    };
    const ours = measure();
    const theirs = withTfGradients(measure);
    assert.ok(theirs >= ours + K, `TensorFlow.js holds ${theirs} tensors at the first backward step, the freeing pass ${ours}`);
    tf.dispose([frozen, v]);
  });
});
