// Downloading a GPT-2 model for the extension: core's downloader, its progress pushed to the host.
import * as path from 'node:path';
import { downloadModel, modelCacheDir } from '../core/hub';
import type { ParamsOf, ResultOf } from '../protocol/worker';
import type { JobContext } from './server';

export async function downloadJob(params: ParamsOf<'model/download'>, ctx: JobContext): Promise<ResultOf<'model/download'>> {
  const cacheDir = params.cacheDir || modelCacheDir();
  const r = await downloadModel(params.name, {
    baseUrl: params.baseUrl || undefined,
    to: path.join(cacheDir, params.name),
    signal: ctx.signal,
    onProgress: (p) =>
      ctx.notify('download/didProgress', {
        file: p.file,
        bytes: p.bytes,
        ...(p.total !== undefined ? { total: p.total } : {}),
        ...(p.bytesPerSec !== undefined ? { bytesPerSec: p.bytesPerSec } : {}),
        ...(p.etaMs !== undefined ? { etaMs: Math.max(0, p.etaMs) } : {}),
      }),
  });
  return {
    dir: r.dir,
    files: r.files.map((f) => ({
      name: f.name,
      bytes: f.bytes,
      alreadyThere: f.alreadyThere,
      ...(f.verified ? { verified: f.verified } : {}),
      ...(f.resumedFrom !== undefined ? { resumedFrom: f.resumedFrom } : {}),
    })),
  };
}
