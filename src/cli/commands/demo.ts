// `llm-lab demo` (what `npm run demo` runs): pretrains the tiny preset on samples/the-verdict.txt into a fresh
// run folder, showing a sample before training, the loss falling, validation loss and perplexity, a sample
// after, and how long it took.
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { int, str } from '../args';
import type { Command } from '../command';
import { loadModel } from '../../core/checkpoint';
import { LlmLabError } from '../../core/errors';
import { generateText } from '../../core/generate';
import { GptModel } from '../../core/model/gpt';
import { makeConfig } from '../../core/model/config';
import { getTokenizer } from '../../core/tokenizer';
import { PRETRAIN_DEFAULTS, pretrain } from '../../core/train';
import type { CliIo } from '../io';
import { printJson, println } from '../io';
import { duration } from '../format';
import { BACKEND_OPTION, describeBackend, readTextFile, startEngine } from './shared';
import { TrainView } from './trainView';

const PROMPT = PRETRAIN_DEFAULTS.samplePrompt;
const SAMPLE_TOKENS = 25;
/**
 * Steps of the demo: pretrain's own recipe, which takes the tiny model's training loss well below 1 on the
 * story (it memorises it, as in the book's chapter 5); about 2 minutes on 2 idle cores with native kernels.
 */
export const DEMO_STEPS = PRETRAIN_DEFAULTS.steps;

/** samples/the-verdict.txt, looked for from the working folder and from where the CLI is installed. */
export function findVerdict(io: CliIo): string {
  const tries = [io.cwd, path.resolve(__dirname, '..'), path.resolve(__dirname, '../..'), path.resolve(__dirname, '../../..'), path.resolve(__dirname, '../../../..')];
  for (const base of tries) {
    const f = path.join(base, 'samples', 'the-verdict.txt');
    if (existsSync(f)) return f;
  }
  throw new LlmLabError('not-found', 'samples/the-verdict.txt was not found; run the demo from the LLM Lab folder or pass --data FILE.');
}

export const demoCommand: Command = {
  name: 'demo',
  summary: 'Pretrain the tiny model on The Verdict and watch it learn.',
  usage: 'demo [--steps N] [--out DIR] [--data FILE] [--backend B]',
  description: `Trains the tiny preset for ${DEMO_STEPS} steps (pretrain's recipe: a few minutes on a CPU) into .llm-lab/runs/demo-<time>, with a sample before and after.`,
  options: {
    steps: { type: 'string', value: 'N', help: `Optimizer steps (default ${DEMO_STEPS}).` },
    out: { type: 'string', value: 'DIR', help: 'Run folder (default .llm-lab/runs/demo-<time>).' },
    data: { type: 'string', value: 'FILE', help: 'Train on this text instead of samples/the-verdict.txt.' },
    ...BACKEND_OPTION,
  },
  examples: ['npm run demo', 'llm-lab demo --steps 100', 'llm-lab demo --backend wasm --json'],
  async run({ values, io, json }) {
    const steps = int(values, 'steps', 1) ?? DEMO_STEPS;
    const dataFile = str(values, 'data') ?? findVerdict(io);
    const stamp = new Date().toISOString().replace(/[:.]/g, '-').replace(/Z$/, '');
    const out = path.resolve(io.cwd, str(values, 'out') ?? path.join('.llm-lab', 'runs', `demo-${stamp}`));
    const started = Date.now();
    const engine = await startEngine(values);
    const text = await readTextFile(io, dataFile, 'Data file');
    const tokenizer = getTokenizer('gpt2');
    const say = (line = ''): void => (json ? undefined : println(io.stdout, line));
    say(`LLM Lab demo: pretraining the tiny GPT on ${path.basename(dataFile)} for ${steps} steps`);
    say(describeBackend(engine)[0]); // the backend in use; `llm-lab info` has the whole report
    // Without a C++ compiler at install the demo runs on WebAssembly: say so once, with how to get the kernels.
    const native = engine.attempts.find((a) => a.name === 'native');
    if (engine.backend !== 'native' && native && !native.ok && !native.detail.startsWith('not tried')) {
      say(`Native kernels: ${native.detail} (they train about 4× faster than ${engine.backend}).`);
    }
    // The same preset and seed as pretrain's defaults: this is the model training starts from.
    const fresh = GptModel.create(makeConfig(PRETRAIN_DEFAULTS.preset), PRETRAIN_DEFAULTS.seed);
    const before = await generateText(fresh, tokenizer, PROMPT, { maxNewTokens: SAMPLE_TOKENS, temperature: 0, signal: io.signal });
    fresh.dispose();
    say();
    say(`before training: ${JSON.stringify(PROMPT + before.text)}`);
    say();
    const view = new TrainView(io, false);
    const r = await pretrain(
      {
        text,
        outDir: out,
        steps,
        sampleEvery: Math.max(50, Math.round(steps / 3)),
        evalEvery: Math.max(10, Math.round(steps / 10)),
      },
      { signal: io.signal, onEvent: json ? undefined : view.onEvent },
    );
    view.close();
    const { model } = await loadModel(out);
    let after: string;
    try {
      after = (await generateText(model, tokenizer, PROMPT, { maxNewTokens: SAMPLE_TOKENS, temperature: 0 })).text;
    } finally {
      model.dispose();
    }
    const ms = Date.now() - started;
    const valLoss = r.lastValLoss;
    if (json) {
      printJson(io, {
        outDir: r.outDir,
        status: r.status,
        steps: r.step,
        firstLoss: view.firstLoss,
        lastLoss: r.lastLoss,
        valLoss,
        perplexity: valLoss !== undefined ? Math.exp(valLoss) : undefined,
        sampleBefore: PROMPT + before.text,
        sampleAfter: PROMPT + after,
        seconds: ms / 1000,
        backend: engine.backend,
      });
      return r.status === 'cancelled' ? 130 : 0;
    }
    say();
    if (view.firstLoss !== undefined && r.lastLoss !== undefined) say(`training loss: ${view.firstLoss.toFixed(3)} → ${r.lastLoss.toFixed(3)}`);
    if (valLoss !== undefined) say(`validation loss: ${valLoss.toFixed(3)} (perplexity ${Math.exp(valLoss).toFixed(1)})`);
    say(`after training: ${JSON.stringify(PROMPT + after)}`);
    say(`${r.status === 'cancelled' ? 'stopped' : 'done'} at step ${r.step} in ${duration(ms)}; the run is in ${r.outDir}`);
    const rel = path.relative(io.cwd, r.outDir);
    say(`next: llm-lab generate --model ${rel && !rel.startsWith('..') ? rel : r.outDir} --prompt '${PROMPT}'`);
    return r.status === 'cancelled' ? 130 : 0;
  },
};
