// Measurements over the GPT model for `npm run bench`: a training step exactly as the "Engine speed" issue
// sets it (random tokens, dropout 0, AdamW, tied head) and greedy generation with the KV cache. Each runs
// in whatever backend is active; bench.ts runs each in a fresh child process to read its peak RSS.
import { tf } from '../src/core/engine';
import * as ops from '../src/core/engine/ops';
import { PRESETS } from '../src/core/model/config';
import type { GptConfig, PresetName } from '../src/core/model/config';
import { decays, GptModel } from '../src/core/model/gpt';
import { KvCache } from '../src/core/model/kvCache';
import { DEFAULT_LORA_TARGETS } from '../src/core/lora/targets';
import { attachNewAdapters } from '../src/core/lora/training';

/** Batch sizes of the training measurements (gpt2: the book's chapter 5 shape, batch 2 of 256 tokens). */
export const TRAIN_BATCH: Record<string, number> = { tiny: 8, small: 4, gpt2: 2 };
/** Context lengths that differ from the preset's. */
const TRAIN_CONTEXT: Partial<Record<PresetName, number>> = { gpt2: 256 };

function benchConfig(preset: PresetName): GptConfig {
  const base = PRESETS[preset];
  return { ...base, contextLength: TRAIN_CONTEXT[preset] ?? base.contextLength, dropRate: 0, tiedHead: true };
}

/**
 * Which parameters a training measurement updates: all, only the last transformer block's, or LoRA adapters of
 * rank 16 (alpha 16) on every linear layer and the head, the base frozen (the book's appendix E setting).
 */
export type TrainedParams = 'all' | 'lastBlock' | 'lora';

function randomIds(n: number, vocab: number, seed: number): Int32Array {
  const out = new Int32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s % vocab;
  }
  return out;
}

/** Tokens per second of full training steps (forward, cross-entropy, backward, AdamW) after warm-up. */
export async function benchTrain(
  preset: PresetName,
  steps: number,
  warmup = 2,
  trained: TrainedParams = 'all',
): Promise<{ tokens_per_s: number; loss: number; cpu_s_per_step: number; create_ms: number }> {
  const config = benchConfig(preset);
  const B = TRAIN_BATCH[preset] ?? 4;
  const T = config.contextLength;
  const c0ms = performance.now();
  const model = GptModel.create(config, 1);
  const create_ms = performance.now() - c0ms;
  const last = `h.${config.nLayers - 1}.`;
  const adapters = trained === 'lora' ? attachNewAdapters(model, { rank: 16, alpha: 16, targets: [...DEFAULT_LORA_TARGETS] }, 1) : undefined;
  const pool = adapters ? adapters.variables() : model.params;
  const names = [...pool.keys()].filter((n) => trained !== 'lastBlock' || n.startsWith(last));
  const vars = names.map((n) => pool.get(n) as tf.Variable);
  // tf.variable copies its initial value: tidy frees the zeros it was made from (as the optimizer does).
  const m = vars.map((v) => tf.tidy(() => tf.variable(tf.zerosLike(v), false)));
  const v2 = vars.map((v) => tf.tidy(() => tf.variable(tf.zerosLike(v), false)));
  let loss = NaN;
  // The loss is read back asynchronously (a GPU backend cannot be read synchronously), as the trainer does.
  const step = async (i: number): Promise<void> => {
    const ids = randomIds(B * (T + 1), config.vocabSize, 1000 + i);
    const lossT = tf.tidy(() => {
      const all = tf.tensor2d(ids, [B, T + 1], 'int32');
      const inputs = tf.slice(all, [0, 0], [B, T]) as tf.Tensor2D; // (B, T)
      const targets = tf.slice(all, [0, 1], [B, T]) as tf.Tensor2D; // (B, T)
      const { value, grads } = tf.variableGrads(() => model.loss(inputs, targets, { training: true, seed: i }), vars);
      vars.forEach((p, j) => {
        const g = grads[p.name];
        if (!g) return;
        ops.adamw(p, g, m[j], v2[j], {
          lr: 3e-4,
          beta1: 0.9,
          beta2: 0.95,
          eps: 1e-8,
          weightDecay: decays(names[j]) ? 0.1 : 0,
          step: i + 1,
        });
      });
      return value;
    });
    loss = (await lossT.data())[0];
    lossT.dispose();
  };
  for (let i = 0; i < warmup; i++) await step(i);
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  for (let i = 0; i < steps; i++) await step(warmup + i);
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(c0);
  model.dispose(); // also frees the adapters
  [...m, ...v2].forEach((t) => t.dispose());
  return { tokens_per_s: (B * T * steps) / seconds, loss, cpu_s_per_step: (cpu.user + cpu.system) / 1e6 / steps, create_ms };
}

/** Greedy decoding with the KV cache: time to the first token after a prompt, then tokens per second. */
export async function benchGenerate(
  preset: PresetName,
  promptTokens: number,
  newTokens: number,
): Promise<{ first_token_ms: number; tokens_per_s: number }> {
  const config = { ...PRESETS[preset], dropRate: 0 };
  const model = GptModel.create(config, 2);
  const prompt = randomIds(promptTokens, config.vocabSize, 7);
  const read = async (t: tf.Tensor): Promise<number> => {
    const v = (await t.data())[0];
    t.dispose();
    return v;
  };
  const run = async (): Promise<{ first: number; rate: number }> => {
    const cache = new KvCache(config.nLayers);
    const t0 = performance.now();
    let next = await read(tf.tidy(() => {
      const { logits } = model.forward(tf.tensor2d(prompt, [1, promptTokens], 'int32'), { cache }); // (1, P, V)
      return tf.argMax(tf.slice(logits, [0, promptTokens - 1, 0], [1, 1, -1]), -1);
    }));
    const first = performance.now() - t0;
    const t1 = performance.now();
    let made = 1;
    for (; made < newTokens && cache.length < config.contextLength; made++) {
      const id = next;
      next = await read(tf.tidy(() => {
        const { logits } = model.forward(tf.tensor2d([id], [1, 1], 'int32'), { cache }); // (1, 1, V)
        return tf.argMax(logits, -1);
      }));
    }
    const rate = (made - 1) / ((performance.now() - t1) / 1000);
    cache.dispose();
    return { first, rate };
  };
  await run(); // warm-up
  const r = await run();
  model.dispose();
  return { first_token_ms: r.first, tokens_per_s: r.rate };
}

/** GFLOP/s of one 1024×768 by 768×3072 matmul on the active backend (best of a few). */
export async function benchMatmul(reps = 5): Promise<number> {
  const a = tf.randomNormal([1024, 768]) as tf.Tensor2D;
  const b = tf.randomNormal([768, 3072]) as tf.Tensor2D;
  let best = Infinity;
  for (let i = 0; i < reps + 1; i++) {
    const t0 = performance.now();
    const c = tf.matMul(a, b);
    await c.data();
    const dt = performance.now() - t0;
    c.dispose();
    if (i > 0) best = Math.min(best, dt);
  }
  a.dispose();
  b.dispose();
  return (2 * 1024 * 768 * 3072) / (best / 1000) / 1e9;
}
