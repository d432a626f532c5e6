// Cross-backend agreement on a whole model: the same seeded GptModel and batch on every backend that starts
// here (cpu and wasm always; native and tensorflow when present) give the same loss, the same gradient of every
// parameter and the same AdamW step as the cpu backend, within float32 tolerances. A backend that is not
// present is skipped with its reason in the test title.
import * as assert from 'node:assert/strict';
import type { BackendName } from '../../../src/core/engine';
import { engineInfo, initEngine, tf } from '../../../src/core/engine';
import type { GptConfig } from '../../../src/core/model/config';
import { makeConfig } from '../../../src/core/model/config';
import { GptModel, parameterShapes } from '../../../src/core/model/gpt';
import { AdamW } from '../../../src/core/train/optimizer';
import type { TokenBatch } from '../../../src/core/train/step';
import { clipGradients, computeGradients } from '../../../src/core/train/step';
import { backendMissing } from './backendRequired';
import { registerGradients } from '../../../src/core/engine/gradients';

const OTHERS: BackendName[] = ['wasm', 'native', 'tensorflow'];
const ADAM = { beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1 };
const LR = 1e-3;

interface Outcome {
  loss: number;
  grads: Map<string, Float32Array>;
  /** Parameters after one AdamW update from the cpu backend's gradients (the same input everywhere). */
  stepped: Map<string, Float32Array>;
  /** Loss of the same batch after a full step on this backend's own gradients (clip 1.0, then AdamW). */
  lossAfterOwnStep: number;
}

/** A deterministic batch whose ids spread over the whole vocabulary (the top ids included). */
function batchFor(config: GptConfig, rows: number, seqLen: number): TokenBatch {
  const V = config.vocabSize;
  const stream = Array.from({ length: rows * (seqLen + 1) }, (_, i) => (i === 3 ? V - 1 : (i * 7919 + 13) % V));
  const inputs = new Int32Array(rows * seqLen);
  const targets = new Int32Array(rows * seqLen);
  for (let r = 0; r < rows; r++) {
    for (let t = 0; t < seqLen; t++) {
      inputs[r * seqLen + t] = stream[r * (seqLen + 1) + t];
      targets[r * seqLen + t] = stream[r * (seqLen + 1) + t + 1];
    }
  }
  return { inputs, targets, batchSize: rows, seqLen };
}

function lossOf(model: GptModel, b: TokenBatch): number {
  return tf.tidy(() => {
    const x = tf.tensor2d(b.inputs, [b.batchSize, b.seqLen], 'int32'); // (B, T)
    const y = tf.tensor2d(b.targets, [b.batchSize, b.seqLen], 'int32'); // (B, T)
    return model.loss(x, y).dataSync()[0];
  });
}

function readAll(m: Map<string, tf.Tensor>): Map<string, Float32Array> {
  return new Map([...m].map(([k, t]) => [k, t.dataSync() as Float32Array]));
}

/** Everything compared, computed on the backend now running. `reference` gradients drive the shared AdamW step. */
async function runOnCurrentBackend(config: GptConfig, b: TokenBatch, reference?: Map<string, Float32Array>): Promise<Outcome> {
  const before = tf.memory().numTensors;
  // Same-input AdamW step: fresh model, the reference gradients as tensors on this backend.
  const shared = GptModel.create(config, 7);
  const { loss, grads } = await computeGradients(shared, b, 1, false, () => 0);
  const gradsHere = readAll(grads);
  const fed = new Map([...(reference ?? gradsHere)].map(([k, v]) => [k, tf.tensor(v, grads.get(k)!.shape)]));
  tf.dispose([...grads.values()]);
  const opt = new AdamW(shared, ADAM);
  opt.update(fed, LR, 1);
  const stepped = readAll(shared.params);
  tf.dispose([...fed.values()]);
  opt.dispose();
  shared.dispose();
  // A full step on this backend's own gradients.
  const own = GptModel.create(config, 7);
  const g = await computeGradients(own, b, 1, false, () => 0);
  await clipGradients(g.grads, 1.0);
  const opt2 = new AdamW(own, ADAM);
  opt2.update(g.grads, LR, 1);
  tf.dispose([...g.grads.values()]);
  const lossAfterOwnStep = lossOf(own, b);
  opt2.dispose();
  own.dispose();
  assert.equal(tf.memory().numTensors, before, `tensors leaked on ${tf.getBackend()}`);
  return { loss, grads: gradsHere, stepped, lossAfterOwnStep };
}

function maxAbs(a: Float32Array): number {
  let m = 0;
  for (const x of a) m = Math.max(m, Math.abs(x));
  return m;
}

/** |a − b| ≤ rel · max|b| (+ a float32 floor) elementwise; names the first element that is off. */
function assertScaledClose(a: Float32Array, b: Float32Array, rel: number, what: string): void {
  assert.equal(a.length, b.length, `${what}: length`);
  const tol = rel * maxAbs(b) + 1e-7;
  for (let i = 0; i < a.length; i++) {
    if (!(Math.abs(a[i] - b[i]) <= tol)) assert.fail(`${what}[${i}]: ${a[i]} vs cpu ${b[i]} (tolerance ${tol.toExponential(2)})`);
  }
}

function relClose(a: number, b: number, rel: number): boolean {
  return Math.abs(a - b) <= rel * Math.max(1, Math.abs(b));
}

const CASES: Array<{ title: string; config: GptConfig; rows: number; seqLen: number }> = [
  {
    title: 'small vocabulary (97), 2 layers, qkv bias, tied head',
    config: makeConfig('tiny', { vocabSize: 97, contextLength: 12, embDim: 16, nHeads: 2, nLayers: 2, dropRate: 0 }),
    rows: 3,
    seqLen: 9,
  },
  {
    title: 'GPT-2 vocabulary (50,257), width 8, untied head, no qkv bias',
    config: makeConfig('tiny', { contextLength: 8, embDim: 8, nHeads: 2, nLayers: 1, dropRate: 0, qkvBias: false, tiedHead: false }),
    rows: 2,
    seqLen: 7,
  },
];

describe('backends agree on a whole model (loss, gradients, AdamW step)', function () {
  let previous: BackendName | undefined;
  before(() => {
    previous = engineInfo()?.backend;
  });
  after(async () => {
    if (previous) await initEngine(previous);
  });

  for (const c of CASES) {
    describe(c.title, () => {
      const b = batchFor(c.config, c.rows, c.seqLen);
      let cpu: Outcome;
      before(async () => {
        await initEngine('cpu');
        assert.equal(registerGradients(), undefined);
        cpu = await runOnCurrentBackend(c.config, b);
      });

      it('cpu reference is sane: finite loss near ln(V) and nonzero gradients for every parameter', () => {
        assert.ok(Number.isFinite(cpu.loss) && Math.abs(cpu.loss - Math.log(c.config.vocabSize)) < 0.5, `loss ${cpu.loss}`);
        assert.deepEqual([...cpu.grads.keys()].sort(), [...parameterShapes(c.config).keys()].sort());
        for (const [name, g] of cpu.grads) assert.ok(maxAbs(g) > 0, `${name} has a zero gradient`);
        assert.ok(cpu.lossAfterOwnStep < cpu.loss, `one step did not lower the loss: ${cpu.loss} → ${cpu.lossAfterOwnStep}`);
      });

      for (const backend of OTHERS) {
        it(`${backend} agrees with cpu`, async function () {
          try {
            await initEngine(backend);
          } catch (e) {
            backendMissing(this, backend, e);
          }
          assert.equal(registerGradients(), undefined);
          const got = await runOnCurrentBackend(c.config, b, cpu.grads);
          assert.ok(relClose(got.loss, cpu.loss, 1e-4), `loss ${got.loss} vs cpu ${cpu.loss}`);
          for (const [name, g] of cpu.grads) {
            const mine = got.grads.get(name);
            assert.ok(mine, `${backend} has no gradient for ${name}`);
            assertScaledClose(mine, g, 1e-3, `${backend} d loss/d ${name}`);
          }
          for (const [name, p] of cpu.stepped) assertScaledClose(got.stepped.get(name)!, p, 1e-5, `${backend} AdamW-updated ${name}`);
          assert.ok(relClose(got.lossAfterOwnStep, cpu.lossAfterOwnStep, 1e-4), `loss after a full step ${got.lossAfterOwnStep} vs cpu ${cpu.lossAfterOwnStep}`);
        });
      }
    });
  }
});
