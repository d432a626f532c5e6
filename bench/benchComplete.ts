// Inline completion speed for `npm run bench -- --only complete`: the time from asking the worker process
// for a 16-token suggestion after a full context to its answer, over many requests at different places in
// real source files, as the extension asks it (IPC included). And the same while a training run keeps a
// worker busy: asked of the training worker itself, then of a worker of its own (what the extension does).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { setPriority, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { saveModel } from '../src/core/checkpoint';
import { packageRoot } from '../src/core/engine/native/addon';
import { PRESETS } from '../src/core/model/config';
import type { PresetName } from '../src/core/model/config';
import { GptModel } from '../src/core/model/gpt';
import { WorkerClient } from '../src/extension/workerClient';

const ROOT = packageRoot(__dirname) ?? resolve(__dirname, '..');
const NEW_TOKENS = 16;

/** Places to complete at: ends of lines in a few of LLM Lab's own sources, each with all the text before it. */
export function contexts(count: number): string[] {
  const files = ['src/core/model/gpt.ts', 'src/core/generate/generate.ts', 'src/core/data/dataset.ts', 'README.md'];
  const texts = files.map((f) => readFileSync(join(ROOT, f), 'utf8'));
  const out: string[] = [];
  for (let i = 0; out.length < count; i++) {
    const t = texts[i % texts.length];
    const lines = t.split('\n');
    const at = 40 + ((i * 37) % Math.max(1, lines.length - 40)); // past the first 40 lines: a full context
    out.push(lines.slice(0, at).join('\n') + '\n' + lines[at].slice(0, Math.ceil(lines[at].length / 2)));
  }
  return out;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

async function savedModel(preset: PresetName, dir: string): Promise<string> {
  const model = GptModel.create({ ...PRESETS[preset], dropRate: 0 }, 1);
  const out = join(dir, preset);
  await saveModel(out, model, { tokenizer: 'gpt2' });
  model.dispose();
  return out;
}

function worker(backend: string): WorkerClient {
  return new WorkerClient({ workerPath: join(__dirname, 'worker.js'), execPath: process.execPath, env: { LLM_LAB_BACKEND: backend } });
}

interface Timing {
  p50_ms: number;
  p95_ms: number;
  tokens_per_s: number;
  mean_tokens: number;
  requests: number;
}

async function timeRequests(w: WorkerClient, modelDir: string, prompts: string[], warmup = 3): Promise<Timing> {
  const ask = (prefix: string) =>
    w.request('complete', {
      modelDir, prefix, prefixTruncated: false, suffix: '', suffixTruncated: false,
      mode: 'block', maxLines: 1000, maxNewTokens: NEW_TOKENS, temperature: 0,
    });
  for (const p of prompts.slice(0, warmup)) await ask(p); // model load and warm-up
  const ms: number[] = [];
  let tokens = 0;
  for (const p of prompts) {
    const t0 = performance.now();
    const r = await ask(p);
    ms.push(performance.now() - t0);
    tokens += r.tokens;
  }
  const total = ms.reduce((a, b) => a + b, 0);
  ms.sort((a, b) => a - b);
  return { p50_ms: percentile(ms, 0.5), p95_ms: percentile(ms, 0.95), tokens_per_s: tokens / (total / 1000), mean_tokens: tokens / prompts.length, requests: prompts.length };
}

/** Completion latency of a preset on an idle machine. */
export async function benchComplete(preset: PresetName, backend: string, requests = 40): Promise<Timing> {
  const dir = mkdtempSync(join(tmpdir(), 'llmlab-bench-complete-'));
  const w = worker(backend);
  try {
    return await timeRequests(w, await savedModel(preset, dir), contexts(requests));
  } finally {
    w.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Completion latency (tiny model) while the `tiny` preset trains on The Verdict in one worker: asked of that
 * same worker, and of a second worker process.
 */
export async function benchCompleteDuringTraining(
  backend: string,
  requests = 20,
): Promise<{ same_worker: Timing; own_worker: Timing; own_worker_nice: Timing; idle: Timing; train_tokens_per_s: number; train_tokens_per_s_nice: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'llmlab-bench-complete-'));
  const trainer = worker(backend);
  const inference = worker(backend);
  const stop = new AbortController();
  try {
    const modelDir = await savedModel('tiny', dir);
    const prompts = contexts(requests);
    const idle = await timeRequests(inference, modelDir, prompts);
    let stepped!: () => void;
    const firstStep = new Promise<void>((r) => (stepped = r));
    let rate = 0;
    const training = trainer.request(
      'train/start',
      {
        runDir: join(dir, 'run'), files: [join(ROOT, 'samples', 'the-verdict.txt')], preset: 'tiny', steps: 1_000_000, batchSize: 8,
        learningRate: 3e-3, evalEvery: 1_000_000, checkpointEvery: 1_000_000, seed: 1, maxFileBytes: 10_000_000, resume: false,
      },
      {
        signal: stop.signal,
        onNotify: (n) => {
          if (n.method !== 'train/didEvent' || n.params.type !== 'step') return;
          rate = n.params.tokensPerSec;
          stepped();
        },
      },
    );
    training.catch(() => undefined);
    await firstStep;
    // Asked of the training worker, each token waits behind a training step: a few requests tell enough.
    const same_worker = await timeRequests(trainer, modelDir, prompts.slice(0, 2), 1);
    const own_worker = await timeRequests(inference, modelDir, prompts);
    const train_tokens_per_s = rate;
    // The extension runs training at a lower CPU priority (niceness 10), so the completions' worker comes first.
    setPriority(trainer.pid!, 10);
    const own_worker_nice = await timeRequests(inference, modelDir, prompts);
    return { same_worker, own_worker, own_worker_nice, idle, train_tokens_per_s, train_tokens_per_s_nice: rate };
  } finally {
    stop.abort();
    trainer.dispose();
    inference.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}
