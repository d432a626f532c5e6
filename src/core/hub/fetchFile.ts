// Downloading one file over HTTP(S) into place, safely: the bytes go to a partial file beside the target, a
// dropped connection or a cancel keeps that partial file, the next try resumes it with a Range request (and
// starts over cleanly when the server ignores Range), and the file is renamed into place only once its size and
// checksum match what the server published. A mismatch removes the partial file, which LLM Lab made, and says so.
import { createHash } from 'node:crypto';
import type { Hash } from 'node:crypto';
import { createReadStream, promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { CancelledError, LlmLabError, throwIfAborted } from '../errors';

/** What the server says the file is; each part is checked when known. */
export interface Expected {
  /** Size in bytes. */
  size?: number;
  /** SHA-256, lower-case hex (the hub's `X-Linked-Etag` / `lfs.sha256` of a large file). */
  sha256?: string;
  /** Git blob id, SHA-1 of `blob <size>\0<bytes>` (the hub's ETag of a small file kept in git). */
  gitOid?: string;
}

export interface FetchProgress {
  /** Bytes of the file on disk so far (a resumed part included). */
  bytes: number;
  /** The file's size, when known. */
  total?: number;
  /** Bytes per second over this download session (undefined at its start). */
  bytesPerSec?: number;
  /** Estimated milliseconds left, when the size and pace are known. */
  etaMs?: number;
}

export interface FetchFileOptions {
  expected: Expected;
  signal?: AbortSignal;
  onProgress?: (p: FetchProgress) => void;
  /** Further tries after a dropped connection, each resuming where the last stopped (default 3). */
  retries?: number;
  /** Milliseconds before the first retry, doubled each time (default 500). */
  retryDelayMs?: number;
  /** Extra request headers (e.g. authorization). */
  headers?: Record<string, string>;
}

export interface FetchFileResult {
  bytes: number;
  /** Bytes that were already on disk from an earlier, interrupted download. */
  resumedFrom: number;
  /** What the finished file was checked against. */
  verified: 'sha256' | 'git-oid' | 'size';
}

/** The partial file of `dest`: a name no user file is likely to have, so LLM Lab only ever removes its own. */
export function partialPath(dest: string): string {
  return `${dest}.llm-lab-partial`;
}

/** Where the partial file's origin is recorded, so a part of another file (or version) is never resumed. */
function partialInfoPath(dest: string): string {
  return `${partialPath(dest)}.json`;
}

async function sizeOf(file: string): Promise<number | undefined> {
  try {
    return (await fsp.stat(file)).size;
  } catch {
    return undefined;
  }
}

/** A running digest of the partial file: SHA-256, and the git blob id when one is expected (it needs the size first). */
class Digest {
  private sha = createHash('sha256');
  private git: Hash | undefined;
  bytes = 0;

  constructor(private readonly expected: Expected) {
    this.reset();
  }

  reset(): void {
    this.sha = createHash('sha256');
    this.git = undefined;
    if (this.expected.gitOid && this.expected.size !== undefined) {
      this.git = createHash('sha1').update(`blob ${this.expected.size}\0`);
    }
    this.bytes = 0;
  }

  update(chunk: Uint8Array): void {
    this.sha.update(chunk);
    this.git?.update(chunk);
    this.bytes += chunk.length;
  }

  async catchUp(file: string, upTo: number, signal?: AbortSignal): Promise<void> {
    if (upTo <= this.bytes) return;
    const stream = createReadStream(file, { start: this.bytes, end: upTo - 1 });
    for await (const chunk of stream) {
      throwIfAborted(signal);
      this.update(chunk as Buffer);
    }
  }

  /** Checks the finished file; returns what it was checked against, or why it does not match. */
  verdict(): { ok: true; verified: FetchFileResult['verified'] } | { ok: false; why: string } {
    const e = this.expected;
    if (e.size !== undefined && this.bytes !== e.size) return { ok: false, why: `it has ${this.bytes} bytes where the server published ${e.size}` };
    if (e.sha256) {
      const got = this.sha.digest('hex');
      return got === e.sha256 ? { ok: true, verified: 'sha256' } : { ok: false, why: `its SHA-256 is ${got} where the server published ${e.sha256}` };
    }
    if (this.git && e.gitOid) {
      const got = this.git.digest('hex');
      return got === e.gitOid ? { ok: true, verified: 'git-oid' } : { ok: false, why: `its git blob id is ${got} where the server published ${e.gitOid}` };
    }
    return { ok: true, verified: 'size' };
  }
}

const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve, reject) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      signal?.removeEventListener('abort', abort);
      resolve();
    }
    function abort(): void {
      clearTimeout(timer);
      reject(new CancelledError());
    }
    signal?.addEventListener('abort', abort, { once: true });
  });

/** An HTTP failure as a user-facing error naming the URL and what to do. */
export function httpError(url: string, status: number): LlmLabError {
  if (status === 404) return new LlmLabError('not-found', `${url} was not found (HTTP 404); check the model name and the hub address (--base-url / HF_ENDPOINT).`);
  if (status === 401 || status === 403) {
    return new LlmLabError('network', `${url} refused access (HTTP ${status}); the repository may be gated or private, or the mirror needs a token (HF_TOKEN).`);
  }
  return new LlmLabError('network', `${url} answered HTTP ${status}; try again later, or use a mirror with --base-url.`);
}

function describe(e: unknown): string {
  const cause = (e as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (e instanceof Error ? e.message : String(e));
}

/**
 * Downloads `url` to `dest` (see the module comment). Resolves once `dest` holds the verified file; rejects with
 * CancelledError when `signal` fires (the partial file stays for the next try), or an LlmLabError saying what
 * went wrong.
 */
export async function fetchFile(url: string, dest: string, options: FetchFileOptions): Promise<FetchFileResult> {
  const { expected, signal } = options;
  const part = partialPath(dest);
  const info = partialInfoPath(dest);
  const origin = JSON.stringify({ url, ...expected });
  await fsp.mkdir(path.dirname(dest), { recursive: true });
  // A part left by a download of something else (another URL, another published checksum) is not resumed.
  const recorded = await fsp.readFile(info, 'utf8').catch(() => undefined);
  if (recorded !== origin) {
    await fsp.rm(part, { force: true });
    await fsp.writeFile(info, origin);
  }
  const resumedFrom = (await sizeOf(part)) ?? 0;
  const digest = new Digest(expected);
  const retries = options.retries ?? 3;
  const started = Date.now();
  let sessionBytes = 0;
  let lastReport = 0;
  const report = (bytes: number, force = false): void => {
    const now = Date.now();
    if (!force && now - lastReport < 100) return;
    lastReport = now;
    const secs = (now - started) / 1000;
    const bytesPerSec = secs > 0.2 && sessionBytes > 0 ? sessionBytes / secs : undefined;
    const etaMs = bytesPerSec && expected.size !== undefined ? ((expected.size - bytes) / bytesPerSec) * 1000 : undefined;
    options.onProgress?.({ bytes, total: expected.size, bytesPerSec, etaMs });
  };

  for (let attempt = 0; ; attempt++) {
    throwIfAborted(signal);
    let have = (await sizeOf(part)) ?? 0;
    if (expected.size !== undefined && have > expected.size) {
      await fsp.rm(part, { force: true }); // longer than the file can be: not worth resuming
      have = 0;
    }
    if (have < digest.bytes) digest.reset();
    const complete = expected.size !== undefined && have === expected.size;
    if (!complete) {
      try {
        have = await fetchInto(url, part, have, digest, options, (n) => {
          sessionBytes += n;
          report(digest.bytes);
        });
      } catch (e) {
        if (signal?.aborted) throw new CancelledError(`Download cancelled; the partial file ${part} is kept and the next download resumes it.`);
        if (e instanceof LlmLabError) throw e;
        const got = (await sizeOf(part)) ?? 0;
        if (attempt < retries) {
          await sleep((options.retryDelayMs ?? 500) * 2 ** attempt, signal);
          continue;
        }
        const of = expected.size !== undefined ? ` of ${expected.size}` : '';
        throw new LlmLabError(
          'network',
          `The download of ${url} stopped after ${got}${of} bytes (${describe(e)}); the partial file is kept: run the same download again to resume it.`,
        );
      }
    }
    await digest.catchUp(part, have, signal);
    report(digest.bytes, true);
    const verdict = digest.verdict();
    if (!verdict.ok) {
      await fsp.rm(part, { force: true });
      await fsp.rm(info, { force: true });
      throw new LlmLabError(
        'bad-data',
        `The downloaded ${path.basename(dest)} does not match what the server published: ${verdict.why}. The partial download was removed; run the download again (if it fails again, the server or mirror serves a different file).`,
      );
    }
    await fsp.rename(part, dest);
    await fsp.rm(info, { force: true });
    return { bytes: digest.bytes, resumedFrom, verified: verdict.verified };
  }
}

/**
 * One GET of `url` appended to `part` from byte `have` (a Range request when `have` > 0). A server that ignores
 * Range sends the whole file: the part is then started over. Returns the part's size when the body ended.
 */
async function fetchInto(
  url: string,
  part: string,
  have: number,
  digest: Digest,
  options: FetchFileOptions,
  onBytes: (n: number) => void,
): Promise<number> {
  const headers: Record<string, string> = { 'accept-encoding': 'identity', ...options.headers };
  if (have > 0) headers.range = `bytes=${have}-`;
  const res = await fetch(url, { headers, signal: options.signal, redirect: 'follow' });
  if (res.status === 416 && have > 0) {
    await res.body?.cancel();
    return have; // nothing after `have`: the part is whole (verification decides)
  }
  if (!res.ok) {
    await res.body?.cancel();
    throw httpError(url, res.status);
  }
  let start = 0;
  if (res.status === 206) {
    const m = /^bytes (\d+)-/.exec(res.headers.get('content-range') ?? '');
    if (m && Number(m[1]) === have) start = have;
    else {
      await res.body?.cancel();
      throw new LlmLabError('network', `${url} answered a resumed download with the wrong part (${res.headers.get('content-range') ?? 'no Content-Range'}); run the download again.`);
    }
  }
  if (start === 0) digest.reset();
  await digest.catchUp(part, start, options.signal);
  const fh = await fsp.open(part, start === 0 ? 'w' : 'a');
  let size = start;
  try {
    if (!res.body) return size;
    for await (const chunk of res.body) {
      const bytes = chunk as Uint8Array;
      await fh.write(bytes);
      digest.update(bytes);
      size += bytes.length;
      onBytes(bytes.length);
    }
  } finally {
    await fh.close();
  }
  const expectedSize = options.expected.size;
  if (expectedSize !== undefined && size < expectedSize) {
    throw new Error(`the connection closed early`);
  }
  return size;
}
