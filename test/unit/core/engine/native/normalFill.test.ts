// Seeded initial weights drawn in C++ (native/src/random.cc) are bit-identical to the JavaScript ziggurat of
// Rng.fillNormal, slow paths (the wedges and the tail beyond R) included, so a model created while the native
// backend runs has the same weights as one created on cpu, wasm or webgpu.
import * as assert from 'node:assert/strict';
import { initEngine, tf } from '../../../../../src/core/engine';
import { loadAddon } from '../../../../../src/core/engine/native/addon';
import { makeConfig } from '../../../../../src/core/model/config';
import { GptModel } from '../../../../../src/core/model/gpt';
import { portableExp, portableLog, Rng, useNormalFill, ziggurat } from '../../../../../src/core/rng';
import { requireNative } from './helpers';

/** The native filler, as the engine registers it. */
function nativeFill(state: Uint32Array, out: Float32Array, std: number): void {
  const t = ziggurat();
  loadAddon().fillNormal(state, out, out.length, std, t.k, t.w, t.f);
}

/** Runs `fn` with Rng.fillNormal in plain JavaScript, then puts the native filler back. */
function inJavaScript<T>(fn: () => T): T {
  useNormalFill(undefined);
  try {
    return fn();
  } finally {
    useNormalFill(nativeFill);
  }
}

describe('native normal sampler', function () {
  before(async function () {
    await requireNative(this);
    useNormalFill(nativeFill);
  });

  it('portableExp and portableLog agree with Math.exp and Math.log to 1e-15 (relative) over their ranges', () => {
    for (let y = -40; y <= 0; y += 0.0137) {
      assert.ok(Math.abs(portableExp(y) / Math.exp(y) - 1) < 1e-15, `exp(${y})`);
    }
    for (const u of [1, 0.999999, 0.75, 0.5, 0.3, 1e-3, 1e-9, 0.5 / 2 ** 32, Math.SQRT1_2, Math.SQRT1_2 * 1.0000001]) {
      assert.ok(Math.abs(portableLog(u) - Math.log(u)) <= 1e-15 * Math.max(1, Math.abs(Math.log(u))), `log(${u})`);
    }
  });

  it('gives the same floats and the same next state as JavaScript, over 3 million draws with tail samples', () => {
    for (const [seed, std] of [[11, 0.02], [12345, 1], [2 ** 40 + 3, 0.0040824829]] as const) {
      const n = 1_000_000;
      const fast = new Rng(seed);
      const a = fast.fillNormal(new Float32Array(n), std);
      const slow = inJavaScript(() => new Rng(seed));
      const b = inJavaScript(() => slow.fillNormal(new Float32Array(n), std));
      let differ = 0;
      for (let i = 0; i < n; i++) if (a[i] !== b[i]) differ++;
      assert.equal(differ, 0, `seed ${seed}: ${differ} of ${n} samples differ`);
      assert.deepEqual(fast.getState(), slow.getState(), 'the stream continues at the same place');
      // The tail path ran: P(|z| > R = 3.4426) ≈ 5.8e-4, so about 580 of a million samples lie beyond R.
      const tail = a.filter((v) => Math.abs(v) > 3.442619855899 * std).length;
      assert.ok(tail > 400 && tail < 800, `${tail} tail samples`);
    }
  });

  it('creates the same model weights on native as on cpu', async () => {
    const config = makeConfig('tiny', { vocabSize: 300, contextLength: 16, embDim: 64, nHeads: 2, nLayers: 1 });
    await initEngine('native');
    const onNative = GptModel.create(config, 7);
    const nativeValues = [...onNative.params].map(([name, v]) => [name, v.dataSync().slice()] as const);
    onNative.dispose();
    await initEngine('cpu');
    try {
      const onCpu = inJavaScript(() => GptModel.create(config, 7));
      for (const [name, values] of nativeValues) {
        assert.deepEqual(onCpu.params.get(name)?.dataSync(), values, name);
      }
      assert.ok(nativeValues.some(([, v]) => v.length >= 1024 && v.some((x) => x !== 0 && x !== 1)), 'some weights were drawn natively');
      onCpu.dispose();
    } finally {
      assert.equal(tf.getBackend(), 'cpu');
    }
  });
});
