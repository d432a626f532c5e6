// The worker's inline completion: resolves a run folder to its latest checkpoint (so a model that is still
// training answers with its newest weights), then runs core's completion on the cached model. The model's
// fill-in-the-middle sentinels, when its config records them, let the text after the cursor in.
import { findCheckpoint } from '../core/checkpoint';
import type { LlmLabMeta } from '../core/checkpoint';
import { completeText } from '../core/complete';
import type { FimSentinels } from '../core/data/fim';
import { sentinelsOf } from '../core/data/fim';
import { LlmLabError } from '../core/errors';
import { DecodeSession } from '../core/model/decodeSession';
import type { GptModel } from '../core/model/gpt';
import type { ParamsOf, ResultOf } from '../protocol/worker';
import { withLanguageModel } from './modelJobs';
import type { JobContext } from './server';

/** The sentinels recorded in a checkpoint's config (llm_lab.fim), when they are three whole ids. */
export function fimOf(meta: LlmLabMeta): FimSentinels | undefined {
  return sentinelsOf(meta.fim);
}

/**
 * One decode session per loaded model, kept across requests: the editor asks again after each keystroke with
 * nearly the same text, and only the positions after the shared prefix are computed. A loaded model's weights
 * never change (a newer checkpoint loads as a new model), so its session stays valid; it goes with the model.
 */
const sessions = new WeakMap<GptModel, DecodeSession>();

function sessionOf(model: GptModel): DecodeSession {
  let s = sessions.get(model);
  if (!s) sessions.set(model, (s = new DecodeSession(model)));
  return s;
}

export async function completeJob(p: ParamsOf<'complete'>, ctx: JobContext): Promise<ResultOf<'complete'>> {
  const t0 = performance.now();
  const dir = await findCheckpoint(p.modelDir);
  if (!dir) {
    throw new LlmLabError(
      'not-found',
      `${p.modelDir} holds no model (no config.json, no checkpoints yet). Point llmLab.inlineCompletion.model at a run or model folder, or pretrain one.`,
    );
  }
  return withLanguageModel(dir, async (l, tok) => {
    const r = await completeText(
      l.model,
      tok,
      {
        prefix: p.prefix,
        prefixTruncated: p.prefixTruncated,
        suffix: p.suffix,
        suffixTruncated: p.suffixTruncated,
        mode: p.mode,
        maxLines: p.maxLines,
        maxNewTokens: p.maxNewTokens,
        temperature: p.temperature,
      },
      { signal: ctx.signal, fim: fimOf(l.meta), session: sessionOf(l.model) },
    );
    return { ...r, modelDir: dir, ms: performance.now() - t0 };
  });
}
