// `npm run bench -- --only gpt2 --with-torch`: GPT-2 124M figures of LLM Lab and of PyTorch measured in one run,
// back to back, each job in its own process (LLM Lab: training of all weights and of the last block or LoRA
// adapters, model creation, KV-cache generation; PyTorch: bench/reference/gpt2Torch.py's train, lastblock and
// generate with 2 threads). Prints one table with the load average before and after, which should be near 0:
// on a busy machine the figures are not comparable (PyTorch's OpenBLAS threads spin while they wait).
import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { join } from 'node:path';

type Json = Record<string, unknown>;

/** Runs bench/reference/gpt2Torch.py `job` with 2 threads; its JSON line, or an error. */
function torchJob(job: string, steps: number): Json {
  const python = process.env.PYTHON ?? 'python3';
  const script = join(process.cwd(), 'bench', 'reference', 'gpt2Torch.py');
  const r = spawnSync(python, [script, job, String(steps)], {
    encoding: 'utf8',
    env: { ...process.env, THREADS: '2', OMP_NUM_THREADS: '2' },
    maxBuffer: 1 << 24,
  });
  const line = (r.stdout ?? '').trim().split('\n').filter((l) => l.startsWith('{')).pop();
  if (r.status !== 0 || !line) {
    const why = (r.error?.message || r.stderr || r.stdout || '').trim().split('\n').filter(Boolean).pop() ?? `exit ${r.status}`;
    return { error: `${python} ${job}: ${why}` };
  }
  return JSON.parse(line) as Json;
}

const num = (x: unknown, digits: number): string =>
  typeof x === 'number' && Number.isFinite(x) ? x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : '–';

function trainCell(r: Json): string {
  if (r.error) return `failed: ${String(r.error)}`;
  return `${num(r.tokens_per_s, 1)} tok/s, ${num(r.cpu_s_per_step, 2)} CPU s/step (load ${num(r.load, 1)})`;
}

function loads(): string {
  return loadavg().map((l) => l.toFixed(2)).join(' / ');
}

/** Runs every job (each through `llmLab` in a fresh process) and prints the comparison table. */
export function compareGpt2(llmLab: (job: string) => Json, withTorch: boolean, steps: number): void {
  const started = Date.now();
  console.log(`load average before (1 / 5 / 15 min): ${loads()}`);
  const jobs: Array<[string, () => Json]> = [
    ['lab train', () => llmLab('train:gpt2')],
    ['lab lora', () => llmLab('train:gpt2_lora')],
    ['lab generate', () => llmLab('generate:gpt2')],
  ];
  if (withTorch) {
    jobs.push(['torch train', () => torchJob('train', steps)], ['torch lastblock', () => torchJob('lastblock', steps)],
      ['torch generate', () => torchJob('generate', steps)]);
  }
  const r: Record<string, Json> = {};
  for (const [name, run] of jobs) {
    const t0 = Date.now();
    r[name] = run();
    console.log(`  ${name.padEnd(16)} ${r[name].error ? `failed: ${String(r[name].error)}` : 'done'} in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  }
  const torch = (k: string): Json => r[k] ?? { error: 'not run (add --with-torch)' };
  const gen = (g: Json): string =>
    g.error ? `failed: ${String(g.error)}` : `${num(g.first_token_ms, 0)} ms / ${num(g.tokens_per_s, 1)} (load ${num(g.load, 1)})`;
  const rss = (x: Json): string => (x.error ? '–' : `${num(x.peak_rss_mb, 0)} MB`);
  const rows: Array<[string, string, string]> = [
    ['train `gpt2` (ctx 256, batch 2)', trainCell(r['lab train']), trainCell(torch('torch train'))],
    ['train `gpt2_lora`: LoRA r16 (LLM Lab) / last block only (PyTorch)', trainCell(r['lab lora']), trainCell(torch('torch lastblock'))],
    ['peak RSS, `gpt2` training', rss(r['lab train']), rss(torch('torch train'))],
    ['peak RSS, `gpt2_lora` / last block', rss(r['lab lora']), rss(torch('torch lastblock'))],
    ['create the 124M model (seeded)', `${num(r['lab train'].create_ms, 0)} ms`, `${num(torch('torch train').create_ms, 0)} ms`],
    ['generate `gpt2`: first token after 32 / tokens/s (KV cache)', gen(r['lab generate']), gen(torch('torch generate'))],
  ];
  console.log('');
  console.log(`| figure | LLM Lab (${String(r['lab train'].backend ?? '?')}, ${String(r['lab train'].threads ?? '?')} threads) | PyTorch ${String(torch('torch train').torch ?? '')} (2 threads) |`);
  console.log('|---|---:|---:|');
  for (const [a, b, c] of rows) console.log(`| ${a} | ${b} | ${c} |`);
  console.log('');
  console.log(`load average after (1 / 5 / 15 min): ${loads()}; ${((Date.now() - started) / 1000).toFixed(0)} s in all, ${new Date().toISOString()}`);
}
