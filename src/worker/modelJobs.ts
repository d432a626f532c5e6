// The worker's model jobs: info, streamed generation, evaluation and attention maps over saved models.
// Models are loaded once and kept (the two most recent), each use holding a reference so a model is never
// disposed while a job still runs on it.
import { basename, join } from 'node:path';
import { stat } from 'node:fs/promises';
import { checkpointStep, findCheckpoint, loadModel, modelTokenizer, WEIGHTS_FILE } from '../core/checkpoint';
import type { LoadedModel } from '../core/checkpoint';
import { initEngine } from '../core/engine';
import { evaluateText } from '../core/eval';
import { generate } from '../core/generate';
import { attentionMaps } from '../core/inspect';
import { countParameters } from '../core/model/config';
import type { Tokenizer } from '../core/tokenizer';
import type { ParamsOf, ResultOf } from '../protocol/worker';
import type { JobContext } from './server';
import { configuredBackend } from './backend';

interface Entry {
  key: string;
  loaded: Promise<LoadedModel>;
  users: number;
  evicted: boolean;
}

const KEEP = 2;
const cache: Entry[] = [];

async function keyOf(dir: string): Promise<string> {
  // A run folder that saved a newer checkpoint, or a folder rewritten in place, must load afresh: key by the
  // checkpoint core would read and its weights' mtime.
  try {
    const found = (await findCheckpoint(dir)) ?? dir;
    const s = await stat(join(found, WEIGHTS_FILE));
    return `${found}@${s.mtimeMs}`;
  } catch {
    return dir;
  }
}

function release(e: Entry): void {
  e.users--;
  if (e.evicted && e.users === 0) void e.loaded.then((l) => l.model.dispose(), () => undefined);
}

/** Runs `fn` with the model of `dir` loaded (from the cache when possible). */
export async function withModel<T>(dir: string, fn: (m: LoadedModel, tokenizer: Tokenizer) => Promise<T>): Promise<T> {
  await initEngine(configuredBackend());
  const key = await keyOf(dir);
  let entry = cache.find((e) => e.key === key);
  if (!entry) {
    entry = { key, loaded: loadModel(dir), users: 0, evicted: false };
    cache.unshift(entry);
    entry.loaded.catch(() => {
      const i = cache.indexOf(entry!);
      if (i >= 0) cache.splice(i, 1);
    });
    while (cache.length > KEEP) {
      const old = cache.pop()!;
      old.evicted = true;
      old.users++;
      release(old);
    }
  }
  entry.users++;
  try {
    const loaded = await entry.loaded;
    return await fn(loaded, modelTokenizer(loaded));
  } finally {
    release(entry);
  }
}

function nameOf(dir: string): string {
  // A run's step checkpoint as "<run> (step 123)"; any other folder by its own name.
  const c = checkpointStep(dir);
  return c ? `${basename(c.runDir)} (step ${c.step})` : basename(dir);
}

export function modelInfoJob(p: ParamsOf<'model/info'>): Promise<ResultOf<'model/info'>> {
  return withModel(p.modelDir, async (l) => ({
    dir: l.dir,
    name: nameOf(l.dir),
    config: { ...l.config },
    parameters: countParameters(l.config),
    tokenizer: modelTokenizer(l).name,
    ...(typeof l.meta.step === 'number' ? { step: l.meta.step } : {}),
  }));
}

export function generateJob(p: ParamsOf<'generate'>, ctx: JobContext): Promise<ResultOf<'generate'>> {
  return withModel(p.modelDir, async (l, tok) => {
    let text = '';
    let tokens = 0;
    let sawEot = false;
    const stream = generate(l.model, tok, p.prompt, {
      maxNewTokens: p.maxNewTokens,
      temperature: p.temperature,
      topK: p.topK,
      topP: p.topP,
      seed: p.seed,
      topCandidates: p.topCandidates,
      signal: ctx.signal,
      stopAtEot: true,
    });
    for await (const t of stream) {
      tokens++;
      text += t.text;
      ctx.notify('generate/didToken', { id: t.id, text: t.text, ...(t.candidates ? { candidates: t.candidates } : {}) });
    }
    sawEot = tokens < p.maxNewTokens;
    return { text, tokens, stoppedAtEot: sawEot };
  });
}

export function evaluateJob(p: ParamsOf<'evaluate'>, ctx: JobContext): Promise<ResultOf<'evaluate'>> {
  return withModel(p.modelDir, async (l, tok) => {
    const r = await evaluateText(l.model, tok, p.text, { signal: ctx.signal });
    return { loss: r.loss, perplexity: r.perplexity, tokens: r.tokens };
  });
}

export function attentionJob(p: ParamsOf<'attention'>): Promise<ResultOf<'attention'>> {
  return withModel(p.modelDir, async (l, tok) => {
    const maps = attentionMaps(l.model, tok, p.text);
    return { tokens: maps.tokens, layers: maps.layers };
  });
}
