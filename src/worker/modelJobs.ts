// The worker's model jobs: info, streamed generation, evaluation and attention maps over saved models.
// Models are loaded once and kept (the two most recent), each use holding a reference so a model is never
// disposed while a job still runs on it.
import { basename, join } from 'node:path';
import { readdir, stat } from 'node:fs/promises';
import { LlmLabError } from '../core/errors';
import { checkpointStep, findCheckpoint, modelTokenizer, requireLanguageModel, WEIGHTS_FILE } from '../core/checkpoint';
import { TRAINED_TOKENIZER } from '../core/tokenizer/bpeModel';
import { ADAPTER_WEIGHTS_FILE, isAdapterFolder } from '../core/checkpoint/layout';
import type { AdapterSummary } from '../core/lora';
import { loadAdapted, loadAnyModel, mergedModelMeta, mergedModelTokenizer, mergeLora } from '../core/lora';
import { ask, promptStyleOf } from '../core/instruct';
import { isClassifierFolder, mergeClassifierAdapter } from '../core/classify';
import { saveModel } from '../core/checkpoint';
import type { LoadedModel } from '../core/checkpoint';

/** A loaded model; an adapter folder's base with its adapters attached. */
type Loaded = LoadedModel & { adapter?: AdapterSummary };
import { initEngine } from '../core/engine';
import { evaluateText } from '../core/eval';
import { generate } from '../core/generate';
import { attentionMaps } from '../core/inspect';
import { countParameters } from '../core/model/config';
import type { Tokenizer } from '../core/tokenizer';
import type { ParamsOf, ResultOf } from '../protocol/worker';
import type { JobContext } from './server';
import { configuredBackend } from './backend';
import { describeTraining } from './finetuneJob';

interface Entry {
  key: string;
  loaded: Promise<Loaded>;
  users: number;
  evicted: boolean;
}

const KEEP = 2;
const cache: Entry[] = [];

async function keyOf(dir: string): Promise<string> {
  // A run folder that saved a newer checkpoint, or a folder rewritten in place, must load afresh: key by the
  // checkpoint core would read and its weights' mtime.
  try {
    const found = (await isAdapterFolder(dir)) ? dir : ((await findCheckpoint(dir)) ?? dir);
    const s = await stat(join(found, (await isAdapterFolder(found)) ? ADAPTER_WEIGHTS_FILE : WEIGHTS_FILE));
    return `${found}@${s.mtimeMs}`;
  } catch {
    return dir;
  }
}

function release(e: Entry): void {
  e.users--;
  if (e.evicted && e.users === 0) void e.loaded.then((l) => l.model.dispose(), () => undefined);
}

/** What to do instead when a job that needs next tokens is given a classifier. */
const NOT_FOR_CLASSIFIERS = 'Use LLM Lab: Classify Selection with it, or select the language model it was fine-tuned from.';

/**
 * Runs `fn` with the language model of `dir` loaded; a classifier is refused with what to do instead, since its
 * body has no trained head for next tokens (generating from it would print noise).
 */
export function withLanguageModel<T>(dir: string, fn: (m: Loaded, tokenizer: Tokenizer) => Promise<T>): Promise<T> {
  return withModel(dir, (l, tok) => {
    requireLanguageModel(l, NOT_FOR_CLASSIFIERS);
    return fn(l, tok);
  });
}

/** Runs `fn` with the model of `dir` loaded (from the cache when possible). */
export async function withModel<T>(dir: string, fn: (m: Loaded, tokenizer: Tokenizer) => Promise<T>): Promise<T> {
  await initEngine(configuredBackend());
  const key = await keyOf(dir);
  let entry = cache.find((e) => e.key === key);
  if (!entry) {
    entry = { key, loaded: loadAnyModel(dir), users: 0, evicted: false };
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

/** A classifier's classes and what its fine-tuning trained, from its config.json's LLM Lab metadata. */
function taskInfo(l: Loaded): Pick<ResultOf<'model/info'>, 'task' | 'classes' | 'trained'> {
  const classes = l.meta.classifierLabels;
  if (classes) {
    const made = l.meta.classifier as { trainable?: unknown; trainableParameters?: unknown; targets?: string[] } | undefined;
    const all = countParameters(l.config) + classes.length * l.config.embDim;
    const lora = made?.trainable === 'lora' && l.adapter ? { rank: l.adapter.rank, alpha: l.adapter.alpha, targets: made.targets } : undefined;
    const trained =
      typeof made?.trainable === 'string' && typeof made.trainableParameters === 'number'
        ? { trained: { what: describeTraining(made.trainable, lora), parameters: made.trainableParameters, of: all } }
        : {};
    return { task: 'classifier', classes: [...classes], ...trained };
  }
  if (l.adapter) return { task: 'LoRA adapter', trained: { what: `LoRA rank ${l.adapter.rank} (alpha ${l.adapter.alpha})`, parameters: l.adapter.parameters, of: countParameters(l.config) } };
  if (typeof l.meta.promptStyle === 'string') return { task: 'instruction-tuned' };
  return {};
}

export function modelInfoJob(p: ParamsOf<'model/info'>): Promise<ResultOf<'model/info'>> {
  return withModel(p.modelDir, async (l) => ({
    ...taskInfo(l),
    dir: l.adapter?.dir ?? l.dir,
    name: l.adapter ? `${nameOf(l.adapter.dir)} (LoRA on ${nameOf(l.dir)})` : nameOf(l.dir),
    config: { ...l.config },
    parameters: countParameters(l.config),
    tokenizer: modelTokenizer(l).name,
    ...(l.meta.tokenizer === TRAINED_TOKENIZER ? { tokenizerDir: l.dir } : {}),
    ...(typeof l.meta.step === 'number' ? { step: l.meta.step } : {}),
    ...(typeof l.meta.promptStyle === 'string' ? { promptStyle: l.meta.promptStyle } : {}),
    ...(l.adapter ? { adapter: { base: l.adapter.base, rank: l.adapter.rank, alpha: l.adapter.alpha, parameters: l.adapter.parameters } } : {}),
  }));
}

/** Streams the response of an instruction-tuned model to an instruction, in its prompt style. */
export function askJob(p: ParamsOf<'ask'>, ctx: JobContext): Promise<ResultOf<'ask'>> {
  return withLanguageModel(p.modelDir, async (l, tok) => {
    const style = promptStyleOf(p.promptStyle ?? l.meta.promptStyle, "The model's prompt style");
    let text = '';
    let tokens = 0;
    const stream = ask(l.model, tok, style, { instruction: p.instruction, input: p.input }, {
      maxNewTokens: p.maxNewTokens,
      temperature: p.temperature,
      topK: p.topK,
      seed: p.seed,
      signal: ctx.signal,
    });
    for await (const t of stream) {
      tokens++;
      text += t.text;
      ctx.notify('generate/didToken', { id: t.id, text: t.text });
    }
    return { text, tokens, promptStyle: style, stoppedAtEot: tokens < p.maxNewTokens };
  });
}

/** Merges a LoRA adapter folder into its base and saves the plain model in a new folder. */
export async function mergeLoraJob(p: ParamsOf<'lora/merge'>): Promise<ResultOf<'lora/merge'>> {
  const existing = await readdir(p.outDir).catch(() => [] as string[]);
  if (existing.length > 0) throw new LlmLabError('bad-argument', `${p.outDir} already holds files; merge into a new folder.`);
  await initEngine(configuredBackend());
  if (await isClassifierFolder(p.adapterDir)) {
    // A LoRA classifier becomes a plain Hugging Face classifier folder, its head merged too.
    const r = await mergeClassifierAdapter(p.adapterDir, p.outDir);
    return { outDir: p.outDir, base: r.base, sites: r.sites };
  }
  const a = await loadAdapted(p.adapterDir);
  try {
    const merged = mergeLora(a.model, a.adapters);
    try {
      await saveModel(p.outDir, merged, mergedModelMeta(a), await mergedModelTokenizer(a));
    } finally {
      merged.dispose();
    }
    return { outDir: p.outDir, base: a.dir, sites: a.adapters.bySite.size };
  } finally {
    a.model.dispose();
  }
}

export function generateJob(p: ParamsOf<'generate'>, ctx: JobContext): Promise<ResultOf<'generate'>> {
  return withLanguageModel(p.modelDir, async (l, tok) => {
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
  return withLanguageModel(p.modelDir, async (l, tok) => {
    const r = await evaluateText(l.model, tok, p.text, { signal: ctx.signal });
    return { loss: r.loss, perplexity: r.perplexity, tokens: r.tokens };
  });
}

export function attentionJob(p: ParamsOf<'attention'>): Promise<ResultOf<'attention'>> {
  return withModel(p.modelDir, async (l, tok) => {
    const maps = await attentionMaps(l.model, tok, p.text);
    return { tokens: maps.tokens, layers: maps.layers };
  });
}
