// LLM Lab's GPT-2 against an independent reference: a small GPT-2 written directly in PyTorch
// (test/fixtures/gpt2Reference/makeReference.py, which also wrote the weights and the expected numbers).
// Loading its Hugging Face style folder and running the same ids must give the same logits, the same
// cross-entropy loss and the same gradients, to float32 precision.
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadModel } from '../../../../src/core/checkpoint';
import { initEngine, tf } from '../../../../src/core/engine';
import { registerGradients } from '../../../../src/core/engine/gradients';

const FIXTURE = join(__dirname, '..', '..', '..', '..', '..', 'test', 'fixtures', 'gpt2Reference');

interface Expected {
  generator: string;
  inputs: number[][];
  targets: number[][];
  logits: number[];
  loss: number;
  grads: Record<string, number[]>;
}

function assertClose(actual: ArrayLike<number>, expected: number[], tol: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  let worst = 0;
  let at = 0;
  for (let i = 0; i < expected.length; i++) {
    const err = Math.abs(actual[i] - expected[i]) / (1 + Math.abs(expected[i]));
    if (!(err <= worst)) [worst, at] = [err, i];
  }
  assert.ok(worst <= tol, `${what}: element ${at} is ${actual[at]}, the reference says ${expected[at]}`);
}

describe('GPT-2 against a PyTorch reference', function () {
  this.timeout(60_000);
  const expected = JSON.parse(readFileSync(join(FIXTURE, 'expected.json'), 'utf8')) as Expected;

  before(async () => {
    await initEngine('cpu');
    assert.equal(registerGradients(), undefined);
  });

  it('gives the reference logits and loss for the same weights and ids', async () => {
    const { model, config } = await loadModel(FIXTURE);
    try {
      assert.deepEqual([config.vocabSize, config.contextLength, config.embDim, config.nHeads, config.nLayers], [96, 16, 32, 4, 2]);
      const inputs = tf.tensor2d(expected.inputs, undefined, 'int32');
      const targets = tf.tensor2d(expected.targets, undefined, 'int32');
      const { logits } = model.forward(inputs);
      assertClose(await logits.data(), expected.logits, 2e-5, 'logits');
      const loss = model.loss(inputs, targets);
      assert.ok(Math.abs((await loss.data())[0] - expected.loss) < 1e-5, `loss ${(await loss.data())[0]} vs ${expected.loss}`);
      tf.dispose([inputs, targets, logits, loss]);
    } finally {
      model.dispose();
    }
  });

  it('gives the reference gradients of that loss', async () => {
    const { model } = await loadModel(FIXTURE);
    try {
      const inputs = tf.tensor2d(expected.inputs, undefined, 'int32');
      const targets = tf.tensor2d(expected.targets, undefined, 'int32');
      const names = Object.keys(expected.grads);
      const vars = names.map((n) => model.params.get(n)!);
      const { grads } = tf.variableGrads(() => model.loss(inputs, targets), vars);
      for (const n of names) assertClose(await grads[vars[names.indexOf(n)].name].data(), expected.grads[n], 2e-5, `gradient of ${n}`);
      tf.dispose([inputs, targets, ...Object.values(grads)]);
    } finally {
      model.dispose();
    }
  });
});
