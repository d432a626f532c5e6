// `npm run bench`: LLM Lab's speed figures. Training (tiny, small) and generation (tiny, small, gpt2) each
// run in a fresh child process so every figure comes with that process's own peak RSS. Prints a table, or
// with --json one JSON object. Flags: --backend auto|webgpu|native|wasm|cpu|tensorflow, --corpus FILE (tokenizer),
// --only train,generate,complete,matmul,tokenizer,bpe,kernels,gpt2, --steps N (training steps measured),
// --with-torch (with --only gpt2: PyTorch's figures from bench/reference/gpt2Torch.py beside LLM Lab's).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { initEngine } from '../src/core/engine';
import type { BackendChoice } from '../src/core/engine';
import type { PresetName } from '../src/core/model/config';
import { benchComplete, benchCompleteDuringTraining } from './benchComplete';
import { benchGenerate, benchMatmul, benchTrain } from './benchModel';
import { benchNativeKernels } from './engine-native';
import { compareGpt2 } from './gpt2Compare';
import type * as TokenizerBench from './tokenizer';

interface Args {
  json: boolean;
  backend: string;
  corpus?: string;
  only?: string[];
  steps?: number;
  child?: string;
  withTorch: boolean;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { json: false, backend: 'auto', withTorch: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--json') args.json = true;
    else if (a === '--backend') args.backend = value();
    else if (a === '--corpus') args.corpus = value();
    else if (a === '--only') args.only = value().split(',');
    else if (a === '--steps') args.steps = Number(value());
    else if (a === '--child') args.child = value();
    else if (a === '--with-torch') args.withTorch = true;
    else throw new Error(`Unknown flag ${a}. Flags: --json --backend NAME --corpus FILE --only LIST --steps N --with-torch`);
  }
  return args;
}

/** Starts the requested backend through the engine; returns its name and thread count. */
async function useBackend(choice: string): Promise<{ backend: string; threads: number }> {
  const info = await initEngine(choice as BackendChoice);
  if (info.gradientsMissing) throw new Error(`training cannot run: ${info.gradientsMissing}`);
  return { backend: info.backend, threads: info.threads };
}

type Json = Record<string, unknown>;

/**
 * bench/tokenizer.ts runs its own CLI when `require.main === module`, which is also true once esbuild has
 * bundled it into dist/bench.js; so it is imported lazily, with require.main hidden for that moment.
 */
function loadTokenizerBench(): typeof TokenizerBench {
  const req = require as { main?: unknown };
  const main = req.main;
  req.main = undefined;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('./tokenizer') as typeof TokenizerBench;
  } finally {
    req.main = main;
  }
}

/** What a child process measures: one job, printed as one JSON line. */
async function runChild(job: string, args: Args): Promise<void> {
  const be = await useBackend(args.backend);
  const [kind, preset] = job.split(':');
  let result: Json;
  if (kind === 'train') {
    const steps = args.steps ?? (preset === 'tiny' ? 6 : 3);
    // gpt2_lora: GPT-2 with LoRA adapters of rank 16 on every linear layer and the head, the base frozen.
    const lora = preset === 'gpt2_lora';
    const model = (lora ? 'gpt2' : preset) as PresetName;
    result = await benchTrain(model, steps, preset === 'tiny' ? 2 : 1, lora ? 'lora' : 'all');
  } else if (kind === 'generate') {
    result = preset === 'gpt2' ? await benchGenerate('gpt2', 32, 16) : await benchGenerate(preset as PresetName, 16, 32);
  } else if (kind === 'complete') {
    result = preset === 'training' ? await benchCompleteDuringTraining(args.backend) : { ...(await benchComplete(preset as PresetName, args.backend)) };
  } else if (kind === 'matmul') {
    result = { gflops: await benchMatmul() };
  } else {
    throw new Error(`unknown job ${job}`);
  }
  const peak = process.resourceUsage().maxRSS / 1024;
  const load = loadavg()[0]; // the machine's 1-minute load: figures taken on a busy machine are low
  process.stdout.write(`${JSON.stringify({ ...be, ...result, load, peak_rss_mb: Math.round(peak) })}\n`);
}

/** Runs one job in a fresh process; the parsed JSON line, or an error string. */
export function spawnJob(job: string, args: { backend: string; steps?: number }): Json {
  const childArgs = [process.argv[1], '--child', job, '--backend', args.backend];
  if (args.steps) childArgs.push('--steps', String(args.steps));
  const r = spawnSync(process.execPath, childArgs, { encoding: 'utf8', maxBuffer: 1 << 24 });
  const line = r.stdout.trim().split('\n').filter((l) => l.startsWith('{')).pop();
  if (r.status !== 0 || !line) {
    const why = (r.stderr || r.stdout || '').trim().split('\n').filter(Boolean).pop() ?? `exit ${r.status}`;
    return { error: why };
  }
  return JSON.parse(line) as Json;
}

const round = (x: unknown, d = 1): number | null => (typeof x === 'number' && Number.isFinite(x) ? Number(x.toFixed(d)) : null);

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (args.child) return runChild(args.child, args);
  if (args.only?.includes('gpt2')) {
    compareGpt2((job) => spawnJob(job, args), args.withTorch, args.steps ?? 3);
    return;
  }
  const want = (k: string): boolean => !args.only || args.only.includes(k);
  const log = (s: string): void => {
    if (!args.json) console.log(s);
  };
  const out: Json = { backend: null, threads: null, train: {}, generate: {}, complete: {}, matmul_gflops: null, tokenizer: null };
  if (want('train')) {
    for (const p of ['tiny', 'small', 'gpt2', 'gpt2_lora']) {
      const r = spawnJob(`train:${p}`, args);
      out.backend ??= r.backend ?? null;
      out.threads ??= r.threads ?? null;
      (out.train as Json)[p] = r.error
        ? { error: r.error }
        : { tokens_per_s: round(r.tokens_per_s), peak_rss_mb: r.peak_rss_mb, create_ms: round(r.create_ms, 0), load: round(r.load, 1) };
      const detail =
        `${round(r.tokens_per_s)} tok/s, peak RSS ${r.peak_rss_mb} MB (CPU ${round(r.cpu_s_per_step, 2)} s/step, ` +
        `model created in ${round(r.create_ms, 0)} ms, load ${round(r.load, 1)})`;
      log(`train ${p.padEnd(9)} ${r.error ? `failed: ${r.error}` : detail}`);
    }
  }
  if (want('generate')) {
    for (const p of ['tiny', 'small', 'gpt2']) {
      const r = spawnJob(`generate:${p}`, args);
      (out.generate as Json)[p] = r.error
        ? { error: r.error }
        : { first_token_ms: round(r.first_token_ms), tokens_per_s: round(r.tokens_per_s) };
      log(`generate ${p.padEnd(6)} ${r.error ? `failed: ${r.error}` : `first token ${round(r.first_token_ms)} ms, ${round(r.tokens_per_s)} tok/s`}`);
    }
  }
  if (want('complete')) {
    const timing = (t: Json) => ({ p50_ms: round(t.p50_ms), p95_ms: round(t.p95_ms), tokens_per_s: round(t.tokens_per_s) });
    const line = (t: Json) => `p50 ${round(t.p50_ms)} ms, p95 ${round(t.p95_ms)} ms, ${round(t.tokens_per_s)} tok/s (${round(t.mean_tokens)} tokens a suggestion)`;
    for (const p of ['tiny', 'small']) {
      const r = spawnJob(`complete:${p}`, args);
      (out.complete as Json)[p] = r.error ? { error: r.error } : { ...timing(r), load: round(r.load, 1) };
      log(`complete ${p.padEnd(6)} ${r.error ? `failed: ${r.error}` : `${line(r)}, load ${round(r.load, 1)}`}`);
    }
    const r = spawnJob('complete:training', args);
    if (r.error) {
      (out.complete as Json).during_training = { error: r.error };
      log(`complete during training failed: ${r.error}`);
    } else {
      const parts = ['idle', 'same_worker', 'own_worker', 'own_worker_nice'] as const;
      (out.complete as Json).during_training = {
        ...Object.fromEntries(parts.map((k) => [k, timing(r[k] as Json)])),
        train_tokens_per_s: round(r.train_tokens_per_s),
        train_tokens_per_s_nice: round(r.train_tokens_per_s_nice),
        load: round(r.load, 1),
      };
      log(`complete tiny, before training starts:    ${line(r.idle as Json)}`);
      log(`  while tiny trains, in the training worker: ${line(r.same_worker as Json)}`);
      log(`  in a worker of its own:                    ${line(r.own_worker as Json)} (training at ${round(r.train_tokens_per_s)} tok/s)`);
      log(`  ... with training at niceness 10:          ${line(r.own_worker_nice as Json)} (training at ${round(r.train_tokens_per_s_nice)} tok/s), load ${round(r.load, 1)}`);
    }
  }
  if (want('matmul')) {
    const r = spawnJob('matmul', args);
    out.backend ??= r.backend ?? null;
    out.threads ??= r.threads ?? null;
    out.matmul_gflops = r.error ? null : round(r.gflops);
    log(`matmul 1024×768×3072: ${r.error ? `failed: ${r.error}` : `${round(r.gflops)} GFLOP/s`}`);
  }
  if (want('tokenizer')) {
    const { benchTokenizer, buildBenchCorpus } = loadTokenizerBench();
    const corpus = args.corpus ? readFileSync(args.corpus, 'utf8') : buildBenchCorpus();
    const r = benchTokenizer(corpus);
    out.tokenizer = { encode_mb_s: round(r.encode_mb_s, 2), decode_mb_s: round(r.decode_mb_s, 2) };
    log(`tokenizer gpt2: encode ${round(r.encode_mb_s, 2)} MB/s, decode ${round(r.decode_mb_s, 2)} MB/s`);
  }
  if (want('bpe')) {
    // The trained tokenizer: training on a 50 MB corpus, then encoding beside GPT-2's encoder.
    const { benchTrainedTokenizer, buildBenchCorpus } = loadTokenizerBench();
    const corpus = args.corpus ? readFileSync(args.corpus, 'utf8') : buildBenchCorpus();
    const r = await benchTrainedTokenizer(buildBenchCorpus(process.cwd(), 50e6), corpus);
    const load = round(loadavg()[0]);
    out.bpe = { train_mb: round(r.train_mb), vocab_size: r.vocab_size, train_s: round(r.train_s), encode_mb_s: round(r.encode_mb_s, 2), decode_mb_s: round(r.decode_mb_s, 2), gpt2_encode_mb_s: round(r.gpt2_encode_mb_s, 2), load };
    log(`bpe train ${round(r.train_mb)} MB to ${r.vocab_size} tokens: ${round(r.train_s)} s (load ${load})`);
    log(`bpe trained encode ${round(r.encode_mb_s, 2)} MB/s, decode ${round(r.decode_mb_s, 2)} MB/s; gpt2 encode ${round(r.gpt2_encode_mb_s, 2)} MB/s`);
  }
  if (args.only?.includes('kernels')) {
    await useBackend('native');
    for (const row of benchNativeKernels()) log(`kernel ${row.name.padEnd(34)} ${row.ms.toFixed(2).padStart(8)} ms  ${row.note}`);
  }
  if (args.json) console.log(JSON.stringify(out));
}

main().catch((e: unknown) => {
  console.error(`bench: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
