// The decode session that generation and completions use: on the native backend one fused engine call per
// forward pass over a preallocated cache, elsewhere the model's tensor ops with a KvCache; both reuse the
// cached prefix a new request shares with the last one. Checked against the PyTorch GPT-2 reference
// (test/fixtures/gpt2Reference), against the tensor path bit for bit, and against fresh sessions after edits.
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadModel } from '../../../../src/core/checkpoint';
import { tf } from '../../../../src/core/engine';
import { startKernelCensus, stopKernelCensus } from '../../../../src/core/engine/native/jsKernels';
import { generate } from '../../../../src/core/generate';
import { argmax } from '../../../../src/core/generate/sampling';
import { makeConfig } from '../../../../src/core/model/config';
import type { GptConfig } from '../../../../src/core/model/config';
import { DecodeSession } from '../../../../src/core/model/decodeSession';
import { GptModel } from '../../../../src/core/model/gpt';
import { ToyTokenizer } from '../generate/helpers';
import { requireNative } from '../engine/native/helpers';

const FIXTURE = join(__dirname, '..', '..', '..', '..', '..', 'test', 'fixtures', 'gpt2Reference');

/** Largest |a − b| / (1 + |b|). */
function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / (1 + Math.abs(b[i])));
  return worst;
}

/** Deterministic token ids below `vocab`. */
function idsOf(n: number, vocab: number, seed: number): number[] {
  return Array.from({ length: n }, (_, i) => (i * 31 + seed * 17 + ((i * i) % 7)) % vocab);
}

/** A model whose every weight, biases and LayerNorm scales included, is random (a new model's biases are 0). */
function randomModel(over: Partial<GptConfig>, seed: number): GptModel {
  const model = GptModel.create(makeConfig('tiny', { vocabSize: 97, contextLength: 24, embDim: 32, nHeads: 4, nLayers: 2, ...over }), seed);
  let i = 0;
  for (const [name, p] of model.params) {
    const ln = /\bln_(1|2|f)\./.test(name);
    tf.tidy(() => {
      const noise = tf.randomNormal(p.shape, 0, ln ? 0.3 : 0.1, 'float32', seed * 100 + i++);
      p.assign(ln && name.endsWith('.weight') ? tf.add(noise, 1) : noise);
    });
  }
  return model;
}

/** The logits after each prefix of `ids` longer than `prompt` tokens, asked one after another of one session. */
async function stepLogits(session: DecodeSession, ids: number[], prompt: number): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  for (let n = prompt; n <= ids.length; n++) out.push(await session.logits(ids.slice(0, n)));
  return out;
}

describe('DecodeSession', function () {
  this.timeout(120_000);
  const shapes: [string, Partial<GptConfig>][] = [
    ['tied head, qkv bias', {}],
    ['separate head, no qkv bias', { tiedHead: false, qkvBias: false }],
  ];

  let previous: string | undefined;
  before(async function () {
    previous = tf.getBackend();
    await requireNative(this);
    await tf.setBackend('native'); // the engine's choice is left as it is: other suites rely on it
  });
  after(async () => {
    if (previous) await tf.setBackend(previous);
  });

  it('gives the PyTorch reference logits at every position, prompt first and then a token at a time', async () => {
    const expected = JSON.parse(readFileSync(join(FIXTURE, 'expected.json'), 'utf8')) as { inputs: number[][]; logits: number[] };
    const { model, config } = await loadModel(FIXTURE);
    try {
      const V = config.vocabSize;
      const T = expected.inputs[0].length;
      for (const fused of [true, false]) {
        for (let b = 0; b < expected.inputs.length; b++) {
          const session = new DecodeSession(model, { fused });
          const steps = await stepLogits(session, expected.inputs[b], 5);
          assert.equal(session.lastFused, fused);
          steps.forEach((l, i) => {
            const pos = 5 + i - 1;
            const ref = expected.logits.slice((b * T + pos) * V, (b * T + pos + 1) * V);
            assert.ok(relErr(l, ref) <= 2e-5, `${fused ? 'fused' : 'tensor'} path, row ${b}, position ${pos}: ${relErr(l, ref)}`);
          });
          session.dispose();
        }
      }
    } finally {
      model.dispose();
    }
  });

  for (const [name, over] of shapes) {
    it(`fused and tensor paths give the same logits bit for bit (${name})`, async () => {
      const model = randomModel(over, 3);
      try {
        const ids = idsOf(20, 97, 1);
        const fused = new DecodeSession(model);
        const plain = new DecodeSession(model, { fused: false });
        const a = await stepLogits(fused, ids, 9);
        const b = await stepLogits(plain, ids, 9);
        assert.equal(fused.lastComputed, 1);
        assert.equal(plain.lastComputed, 1);
        assert.ok(fused.lastFused && !plain.lastFused);
        a.forEach((l, i) => assert.deepEqual(l, b[i], `step ${i}`));
        fused.dispose();
        plain.dispose();
      } finally {
        model.dispose();
      }
    });
  }

  it('greedy generation gives the tokens and, within float rounding, the logits of the uncached full forward', async () => {
    const model = randomModel({ vocabSize: 48, contextLength: 16, nHeads: 2 }, 5);
    const tok = new ToyTokenizer();
    try {
      const run = async (opts: { noCache?: boolean; fused?: boolean }) => {
        const logits: Float32Array[] = [];
        const ids: number[] = [];
        for await (const t of generate(model, tok, 'hello world', { maxNewTokens: 10, temperature: 0, stopAtEot: false, ...opts, onLogits: (l) => logits.push(Float32Array.from(l)) })) ids.push(t.id);
        return { ids, logits };
      };
      const fused = await run({});
      const full = await run({ noCache: true });
      assert.deepEqual(fused.ids, full.ids);
      fused.logits.forEach((l, i) => assert.ok(relErr(l, full.logits[i]) < 1e-5, `step ${i}`));
      fused.logits.forEach((l, i) => assert.equal(argmax(l), fused.ids[i]));
      assert.deepEqual((await run({ fused: false })).logits, fused.logits);
    } finally {
      model.dispose();
    }
  });

  it('after an edit reuses only the positions before it, and answers as a fresh session does', async () => {
    const model = randomModel({}, 7);
    try {
      for (const fused of [true, false]) {
        const session = new DecodeSession(model, { fused });
        const first = idsOf(18, 97, 2);
        await session.logits(first);
        assert.equal(session.lastComputed, 18);
        const cases: [string, number[], number][] = [
          ['a token typed at the end', [...first, 5], 1],
          ['the same request again', [...first, 5], 1],
          ['the cursor moved back', first.slice(0, 12), 1],
          ['a token changed at position 4, text after it kept', [...first.slice(0, 4), 96, ...first.slice(5)], 18 - 4],
          ['a token deleted at position 2', [...first.slice(0, 2), ...first.slice(3)], 17 - 2],
          ['nothing in common', idsOf(10, 97, 9), 10],
        ];
        for (const [what, ids, computed] of cases) {
          const reused = await session.logits(ids);
          assert.equal(session.lastComputed, computed, `${what}: positions computed`);
          const fresh = new DecodeSession(model, { fused });
          assert.deepEqual(reused, await fresh.logits(ids), `${what}: logits`);
          fresh.dispose();
        }
        session.dispose();
      }
    } finally {
      model.dispose();
    }
  });

  it('the fused path dispatches no TensorFlow.js kernel and leaves no tensor; the tensor path leaves none once released', async () => {
    const model = randomModel({}, 3);
    try {
      const before = tf.memory().numTensors;
      const fused = new DecodeSession(model);
      startKernelCensus();
      await stepLogits(fused, idsOf(12, 97, 4), 8);
      assert.deepEqual(stopKernelCensus(), []);
      assert.equal(tf.memory().numTensors, before);
      const plain = new DecodeSession(model, { fused: false });
      await stepLogits(plain, idsOf(12, 97, 4), 8);
      plain.release();
      assert.equal(tf.memory().numTensors, before);
    } finally {
      model.dispose();
    }
  });

  it('says what is wrong with a sequence longer than the context or a token outside the vocabulary', async () => {
    const model = GptModel.create(makeConfig('tiny', { vocabSize: 97, contextLength: 8, embDim: 16, nHeads: 2, nLayers: 1 }), 3);
    try {
      const session = new DecodeSession(model);
      await assert.rejects(session.logits(idsOf(9, 97, 1)), /1 to 8 tokens, got 9/);
      await assert.rejects(session.logits([1, 2, 97]), /token id 97 outside the vocabulary/);
      // The failed call left nothing half-written behind: the next one is right.
      const ok = await session.logits([1, 2, 3]);
      const fresh = new DecodeSession(model, { fused: false });
      assert.deepEqual(ok, await fresh.logits([1, 2, 3]));
      fresh.release();
    } finally {
      model.dispose();
    }
  });
});
