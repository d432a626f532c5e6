// The worker's handlers, one per protocol method; each calls into src/core and nothing else.
import { initEngine } from '../core/engine';
import type { BackendChoice } from '../core/engine';
import { BACKEND_CHOICES, describeEngine } from '../core/engine';
import { LlmLabError } from '../core/errors';
import { configuredBackend } from './backend';
import type { Handlers } from './server';
import { completeJob } from './completeJob';
import { downloadJob } from './downloadJob';
import { askJob, attentionJob, evaluateJob, generateJob, mergeLoraJob, modelInfoJob } from './modelJobs';
import { trainTokenizerJob } from './trainTokenizerJob';
import { previewData, scanCorpus, tokenizeText } from './tokenizeJob';
import { trainJob } from './trainJob';
import { classifyJob, finetuneJob, planFinetuneJob } from './finetuneJob';

export function createHandlers(): Handlers {
  return {
    'engine/info': async (params) => {
      if (params.backend !== undefined && !(BACKEND_CHOICES as readonly string[]).includes(params.backend)) {
        throw new LlmLabError('bad-argument', `Unknown backend "${params.backend}"; use one of ${BACKEND_CHOICES.join(', ')}.`);
      }
      const info = await initEngine((params.backend as BackendChoice | undefined) ?? configuredBackend());
      return {
        backend: info.backend,
        threads: info.threads,
        attempts: info.attempts.map((a) => ({ name: a.name, ok: a.ok, detail: a.detail })),
        pid: process.pid,
        runtime: `Node ${process.versions.node}${process.versions.electron ? ` (Electron ${process.versions.electron})` : ''}`,
        fusedOps: info.fusedOps,
        ...(info.gradientsMissing ? { gradientsMissing: info.gradientsMissing } : {}),
        summary: describeEngine(info),
      };
    },
    tokenize: async (params) => tokenizeText(params),
    'corpus/scan': (params, ctx) => scanCorpus(params, ctx.signal),
    'data/preview': (params, ctx) => previewData(params, ctx.signal),
    'train/start': (params, ctx) => trainJob(params, ctx),
    'finetune/plan': (params) => planFinetuneJob(params),
    'finetune/start': (params, ctx) => finetuneJob(params, ctx),
    classify: (params, ctx) => classifyJob(params, ctx),
    'model/info': (params) => modelInfoJob(params),
    generate: (params, ctx) => generateJob(params, ctx),
    evaluate: (params, ctx) => evaluateJob(params, ctx),
    ask: (params, ctx) => askJob(params, ctx),
    'lora/merge': (params) => mergeLoraJob(params),
    attention: (params) => attentionJob(params),
    complete: (params, ctx) => completeJob(params, ctx),
    'model/download': (params, ctx) => downloadJob(params, ctx),
    'tokenizer/train': (params, ctx) => trainTokenizerJob(params, ctx),
  };
}
