// The shared training loop with a fine-tuning task: frozen parameters keep their exact bytes and cost no
// weight-gradient product on any backend, AdamW keeps state for the trained ones only, and a run cancelled
// and resumed gives bit for bit the losses and weights of an uninterrupted one (with dropout and accumulation).
import * as assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { listCheckpoints, loadModelFrom, writeModelFiles } from '../../../../src/core/checkpoint/modelFiles';
import { readSafetensors } from '../../../../src/core/checkpoint/safetensors';
import { BatchSampler, TokenWindows } from '../../../../src/core/data';
import type { SamplerState } from '../../../../src/core/data';
import { initEngine, tf } from '../../../../src/core/engine';
import { nativeBackend } from '../../../../src/core/engine/native/backend';
import { makeConfig } from '../../../../src/core/model/config';
import { GptModel } from '../../../../src/core/model/gpt';
import type { TrainEvent } from '../../../../src/core/train/events';
import { accumulateGradients, tokenBatchLoss } from '../../../../src/core/train/step';
import type { TokenBatch } from '../../../../src/core/train/step';
import type { LoopOptions, TrainingTask } from '../../../../src/core/train/trainer';
import { runTraining } from '../../../../src/core/train/trainer';
import { registerGradients } from '../../../../src/core/engine/gradients';
import { requireNative } from '../engine/native/helpers';

const C = 16;
const cfg = makeConfig('tiny', { vocabSize: 32, contextLength: 8, embDim: C, nHeads: 2, nLayers: 2, dropRate: 0 });
/** The four weight matrices of a block, as [in, out]. */
const MATRIX_SHAPES = [[C, 3 * C], [C, C], [C, 4 * C], [4 * C, C]].map((s) => s.join('x'));
const tokens = Int32Array.from({ length: 300 }, (_, i) => (i * 7 + (i >> 3)) % 32);

const lastBlock = (m: GptModel): Set<string> =>
  new Set([...m.params.keys()].filter((n) => n.startsWith(`h.${m.config.nLayers - 1}.`) || n.startsWith('ln_f.')));

/** Next-token fine-tuning of some of a model's parameters: a task written against the loop's interface alone. */
function lmTask(model: GptModel, trainable: Set<string>, batchSize: number): TrainingTask<TokenBatch> {
  const windows = new TokenWindows(tokens, model.config.contextLength, 4);
  const sampler = new BatchSampler(windows, batchSize, 5);
  return {
    params: model.params,
    trainable,
    batches: { next: () => sampler.next(), getState: () => sampler.getState(), setState: (s) => sampler.setState(s as SamplerState) },
    dataFingerprint: `toy:${tokens.length}`,
    dataSizes: { trainTokens: tokens.length, valTokens: 0, trainWindows: windows.count, stepsPerEpoch: sampler.batchesPerEpoch },
    parameters: [...model.params.values()].reduce((a, v) => a + v.size, 0),
    tokensPerStep: batchSize * model.config.contextLength,
    loss: (batch, from, rows, seed) => tokenBatchLoss(model, batch, true)(from, rows, seed),
    writeModel: (dir, step) => writeModelFiles(dir, model, { step }),
  };
}

function loop(extra: Partial<LoopOptions> = {}): LoopOptions {
  return {
    steps: 8, batchSize: 4, gradAccumSteps: 2, lr: 1e-2, minLr: 1e-3, warmupSteps: 2, weightDecay: 0.1, beta1: 0.9, beta2: 0.999,
    eps: 1e-8, gradClip: 1, evalEvery: 0, checkpointEvery: 0, keepCheckpoints: 2, seed: 3, ...extra,
  };
}

const bytesOf = (t: tf.Tensor): Buffer => Buffer.from((t.dataSync() as Float32Array).slice().buffer);

/**
 * "in×out" of every matrix product the backward pass of one step runs: the engine's matmul kernels (cpu,
 * wasm) and the native addon's gemm calls (native linear layers call it directly). A weight's gradient dW is
 * the product with the weight's own [in, out] shape.
 */
async function productsOfBackward(model: GptModel, trainable: Set<string>): Promise<Set<string>> {
  const sizes = new Set<string>();
  const batch: TokenBatch = { inputs: tokens.slice(0, 10), targets: tokens.slice(1, 11), batchSize: 2, seqLen: 5 }; // N = 10 rows
  const vars = new Map([...trainable].map((n) => [n, model.params.get(n)!]));
  let restore = (): void => {};
  if (tf.getBackend() === 'native') {
    const addon = nativeBackend().addon as unknown as Record<string, (...a: unknown[]) => unknown>;
    const gemm = addon.gemm;
    addon.gemm = (...a: unknown[]) => {
      sizes.add(`${a[8]}x${a[9]}`); // (M, N) of C = A·B
      return gemm(...a);
    };
    restore = () => (addon.gemm = gemm);
  }
  try {
    const info = await tf.profile(async () => {
      const { grads } = await accumulateGradients(vars, 2, 1, tokenBatchLoss(model, batch, false), () => 0);
      assert.deepEqual([...grads.keys()].sort(), [...trainable].sort(), 'a gradient for each trained parameter, none for the frozen');
      tf.dispose([...grads.values()]);
      return [];
    });
    for (const k of info.kernels) {
      if (!/MatMul/.test(k.name)) continue;
      const s = k.outputShapes[0] ?? [];
      if (s.length >= 2) sizes.add(`${s[s.length - 2]}x${s[s.length - 1]}`);
    }
  } finally {
    restore();
  }
  return sizes;
}

describe('training loop (trainer)', function () {
  this.timeout(120_000);
  let root: string;
  before(async () => {
    await initEngine('cpu');
    assert.equal(registerGradients(), undefined);
  });
  after(async () => {
    await initEngine('cpu');
  });
  beforeEach(async () => {
    root = await fsp.mkdtemp(path.join(os.tmpdir(), 'llmlab-trainer-'));
  });
  afterEach(async () => {
    await fsp.rm(root, { recursive: true, force: true });
  });

  for (const backend of ['cpu', 'wasm', 'native'] as const) {
    it(`${backend}: computes no gradient product for a frozen weight matrix (dW), and all of them when everything trains`, async function () {
      if (backend === 'native') await requireNative(this);
      await initEngine(backend);
      const model = GptModel.create(cfg, 1);
      try {
        // Only the embeddings train: every block's input lies on the gradient path, its weights do not.
        const frozen = await productsOfBackward(model, new Set(['wte.weight', 'wpe.weight']));
        for (const shape of MATRIX_SHAPES) assert.ok(!frozen.has(shape), `${backend}: a ${shape} weight gradient was computed for a frozen matrix`);
        assert.ok(frozen.has(`10x${C}`), `${backend}: the spy saw the input gradients (${[...frozen].join(', ')})`);
        const all = await productsOfBackward(model, new Set(model.params.keys()));
        for (const shape of MATRIX_SHAPES) assert.ok(all.has(shape), `${backend}: the ${shape} weight gradient is missing when everything trains`);
      } finally {
        model.dispose();
        await initEngine('cpu');
      }
    });
  }

  it('keeps frozen parameters bit for bit, moves the trained ones, and keeps AdamW state for the trained ones only', async () => {
    const model = GptModel.create({ ...cfg, dropRate: 0.1 }, 2);
    const trainable = lastBlock(model);
    const before = new Map([...model.params].map(([n, v]) => [n, bytesOf(v)]));
    const out = path.join(root, 'run');
    try {
      const result = await runTraining(lmTask(model, trainable, 4), loop(), { outDir: out, kind: 'lm-test', options: { what: 'test' } });
      assert.equal(result.status, 'completed');
      for (const [name, v] of model.params) {
        const same = bytesOf(v).equals(before.get(name)!);
        assert.equal(same, !trainable.has(name), `${name} ${trainable.has(name) ? 'did not train' : 'changed although frozen'}`);
      }
      const [ckpt] = await listCheckpoints(path.join(out, 'checkpoints'));
      const { tensors } = await readSafetensors(path.join(ckpt.dir, 'training_state.safetensors'));
      const expected = [...trainable].flatMap((n) => [`exp_avg.${n}`, `exp_avg_sq.${n}`]).sort();
      assert.deepEqual([...tensors.keys()].sort(), expected);
      const saved = await loadModelFrom(ckpt.dir);
      try {
        assert.ok(bytesOf(saved.model.params.get('h.0.mlp.c_fc.weight')!).equals(before.get('h.0.mlp.c_fc.weight')!), 'the checkpoint holds the frozen weights as they were');
      } finally {
        saved.model.dispose();
      }
      const run = JSON.parse(await fsp.readFile(path.join(out, 'run.json'), 'utf8'));
      assert.equal(run.kind, 'lm-test');
    } finally {
      model.dispose();
    }
  });

  it('reports trained and total parameters in the start event', async () => {
    const model = GptModel.create(cfg, 2);
    const events: TrainEvent[] = [];
    try {
      await runTraining(lmTask(model, new Set(['ln_f.weight', 'ln_f.bias']), 4), loop({ steps: 1 }), { outDir: path.join(root, 'r'), kind: 'lm-test', options: {} }, {
        onEvent: (e) => events.push(e),
      });
    } finally {
      model.dispose();
    }
    const start = events.find((e) => e.type === 'start');
    assert.ok(start && start.type === 'start');
    assert.equal(start.trainableParameters, 2 * C);
    assert.equal(start.task, 'lm-test');
  });

  it('resumes a cancelled fine-tuning run bit for bit (dropout on, two micro-batches per step)', async () => {
    const make = (): GptModel => GptModel.create({ ...cfg, dropRate: 0.1 }, 4);
    const losses = (events: TrainEvent[]): number[] => events.flatMap((e) => (e.type === 'step' ? [e.loss] : []));

    const whole = path.join(root, 'whole');
    const wholeEvents: TrainEvent[] = [];
    const m1 = make();
    try {
      await runTraining(lmTask(m1, lastBlock(m1), 4), loop(), { outDir: whole, kind: 'lm-test', options: {} }, { onEvent: (e) => wholeEvents.push(e) });
    } finally {
      m1.dispose();
    }

    const split = path.join(root, 'split');
    const firstEvents: TrainEvent[] = [];
    const stop = new AbortController();
    const m2 = make();
    try {
      const r = await runTraining(lmTask(m2, lastBlock(m2), 4), loop(), { outDir: split, kind: 'lm-test', options: {} }, {
        signal: stop.signal,
        onEvent: (e) => {
          firstEvents.push(e);
          if (e.type === 'step' && e.step === 3) stop.abort();
        },
      });
      assert.equal(r.status, 'cancelled');
      assert.equal(r.step, 3);
    } finally {
      m2.dispose();
    }
    const [latest] = (await listCheckpoints(path.join(split, 'checkpoints'))).slice(-1);
    assert.equal(latest.step, 3);
    const resumed = (await loadModelFrom(latest.dir)).model;
    const restEvents: TrainEvent[] = [];
    try {
      const r = await runTraining(lmTask(resumed, lastBlock(resumed), 4), loop(), { outDir: split, kind: 'lm-test', options: {}, resumeFrom: latest }, {
        onEvent: (e) => restEvents.push(e),
      });
      assert.equal(r.status, 'completed');
    } finally {
      resumed.dispose();
    }

    assert.deepEqual([...losses(firstEvents), ...losses(restEvents)], losses(wholeEvents));
    const a = (await listCheckpoints(path.join(whole, 'checkpoints'))).pop()!;
    const b = (await listCheckpoints(path.join(split, 'checkpoints'))).pop()!;
    for (const file of ['model.safetensors', 'training_state.safetensors']) {
      const [ta, tb] = await Promise.all([readSafetensors(path.join(a.dir, file)), readSafetensors(path.join(b.dir, file))]);
      assert.deepEqual([...ta.tensors.keys()].sort(), [...tb.tensors.keys()].sort());
      for (const [name, t] of ta.tensors) {
        assert.ok(Buffer.from(t.data.buffer).equals(Buffer.from(tb.tensors.get(name)!.data.buffer)), `${file}: ${name} differs after resume`);
      }
    }
  });
});
