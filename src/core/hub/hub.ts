// OpenAI's GPT-2 weights from the Hugging Face hub (or a mirror): which models there are, where they are cached,
// what the hub publishes about each file (size and checksum), and downloading a model folder — config.json and
// model.safetensors of `openai-community/<name>` — that `loadModel` then reads like any other GPT-2 folder.
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fromHfConfig } from '../checkpoint/hfConfig';
import { formatBytes } from '../model/config';
import { LlmLabError } from '../errors';
import type { Expected, FetchFileResult, FetchProgress } from './fetchFile';
import { fetchFile, httpError, partialPath } from './fetchFile';
import type { Gpt2ModelName } from './models';
import { GPT2_MODELS, GPT2_MODEL_NAMES, isGpt2ModelName } from './models';

/** The files of a model folder, the small one first so a wrong address fails fast. */
export const MODEL_FILES = ['config.json', 'model.safetensors'] as const;

export const DEFAULT_HUB = 'https://huggingface.co';

type Env = Record<string, string | undefined>;

/** The hub's address: the explicit one, else HF_ENDPOINT (the hub's usual variable for mirrors), else huggingface.co. */
export function hubBaseUrl(explicit?: string, env: Env = process.env): string {
  const raw = (explicit || env.HF_ENDPOINT || DEFAULT_HUB).trim();
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new LlmLabError('bad-argument', `The hub address '${raw}' is not a URL; give one like ${DEFAULT_HUB}.`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new LlmLabError('bad-argument', `The hub address '${raw}' must start with https:// (or http:// for a local mirror).`);
  }
  return url.toString().replace(/\/+$/, '');
}

/** Where downloaded models are kept: $XDG_CACHE_HOME/llm-lab/models, else ~/.cache/llm-lab/models. */
export function modelCacheDir(env: Env = process.env): string {
  const base = env.XDG_CACHE_HOME && path.isAbsolute(env.XDG_CACHE_HOME) ? env.XDG_CACHE_HOME : path.join(os.homedir(), '.cache');
  return path.join(base, 'llm-lab', 'models');
}

function resolveUrl(base: string, repo: string, file: string): string {
  return `${base}/${repo}/resolve/main/${file}`;
}

function headerInt(h: Headers, name: string): number | undefined {
  const v = h.get(name);
  return v !== null && /^\d+$/.test(v) ? Number(v) : undefined;
}

function unquote(v: string | null): string | undefined {
  return v ? v.replace(/^W\//, '').replace(/^"|"$/g, '').toLowerCase() : undefined;
}

/**
 * What the hub publishes about a file, from a HEAD of its resolve URL without following the redirect to the
 * storage server: a large (LFS) file answers with a redirect carrying X-Linked-Size and X-Linked-Etag (its
 * SHA-256); a small one answers 200 with its size and its git blob id as ETag. Redirects within the hub (a
 * renamed repository) are followed.
 */
export async function fileMetadata(url: string, signal?: AbortSignal): Promise<Expected> {
  let current = url;
  for (let hops = 0; hops < 5; hops++) {
    let res: Response;
    try {
      res = await fetch(current, { method: 'HEAD', redirect: 'manual', signal, headers: { 'accept-encoding': 'identity' } });
    } catch (e) {
      if (signal?.aborted) throw e;
      const cause = (e as { cause?: { code?: string } }).cause?.code ?? (e instanceof Error ? e.message : String(e));
      throw new LlmLabError('network', `Could not reach ${new URL(url).origin} (${cause}); check the network, or give a mirror with --base-url or HF_ENDPOINT.`);
    }
    const h = res.headers;
    const linkedSize = headerInt(h, 'x-linked-size');
    const linkedEtag = unquote(h.get('x-linked-etag'));
    if (res.status >= 300 && res.status < 400) {
      if (linkedSize !== undefined || linkedEtag) return { size: linkedSize, ...sha256Of(linkedEtag) };
      const location = h.get('location');
      if (!location) throw httpError(url, res.status);
      const next = new URL(location, current);
      if (next.origin !== new URL(url).origin) return {}; // off to storage without metadata: nothing published here
      current = next.toString();
      continue;
    }
    if (!res.ok) throw httpError(url, res.status);
    const etag = unquote(h.get('etag'));
    const size = linkedSize ?? headerInt(h, 'content-length');
    if (linkedEtag) return { size, ...sha256Of(linkedEtag) };
    if (etag && /^[0-9a-f]{64}$/.test(etag)) return { size, sha256: etag };
    if (etag && /^[0-9a-f]{40}$/.test(etag)) return { size, gitOid: etag };
    return { size };
  }
  throw new LlmLabError('network', `${url} redirects too many times; check the hub address.`);
}

function sha256Of(etag: string | undefined): { sha256?: string } {
  return etag && /^[0-9a-f]{64}$/.test(etag) ? { sha256: etag } : {};
}

/** The hub API's record of a repository's files (`lfs.sha256`/`lfs.oid` for large ones), for when HEAD published no checksum. */
async function apiMetadata(base: string, repo: string, signal?: AbortSignal): Promise<Map<string, Expected>> {
  const out = new Map<string, Expected>();
  let res: Response;
  try {
    res = await fetch(`${base}/api/models/${repo}/tree/main`, { signal });
  } catch (e) {
    if (signal?.aborted) throw e;
    return out;
  }
  if (!res.ok) {
    await res.body?.cancel();
    return out;
  }
  let list: unknown;
  try {
    list = await res.json();
  } catch {
    return out;
  }
  if (!Array.isArray(list)) return out;
  for (const entry of list as { path?: unknown; size?: unknown; oid?: unknown; lfs?: { sha256?: unknown; oid?: unknown; size?: unknown } }[]) {
    if (typeof entry?.path !== 'string') continue;
    const lfs = entry.lfs;
    const sha = typeof lfs?.sha256 === 'string' ? lfs.sha256 : typeof lfs?.oid === 'string' ? lfs.oid : undefined;
    const size = typeof lfs?.size === 'number' ? lfs.size : typeof entry.size === 'number' ? entry.size : undefined;
    if (lfs) out.set(entry.path, { size, ...sha256Of(sha?.toLowerCase()) });
    else out.set(entry.path, { size, ...(typeof entry.oid === 'string' && /^[0-9a-f]{40}$/.test(entry.oid) ? { gitOid: entry.oid } : {}) });
  }
  return out;
}

export interface DownloadProgress extends FetchProgress {
  file: string;
}

export interface DownloadModelOptions {
  /** Hub address (default: HF_ENDPOINT, else huggingface.co). */
  baseUrl?: string;
  /** Folder to put the model in (default: modelCacheDir()/<name>). */
  to?: string;
  signal?: AbortSignal;
  onProgress?: (p: DownloadProgress) => void;
  /** Tries after a dropped connection, per file (default 3). */
  retries?: number;
  retryDelayMs?: number;
  env?: Env;
}

export interface DownloadedFile extends Partial<FetchFileResult> {
  name: string;
  bytes: number;
  /** True when the file was already there and verified, so nothing was fetched. */
  alreadyThere: boolean;
}

export interface DownloadModelResult {
  name: Gpt2ModelName;
  dir: string;
  baseUrl: string;
  files: DownloadedFile[];
}

/** What a finished download records beside the files, so a later run skips verified files without rehashing them. */
const DONE_FILE = '.llm-lab-download.json';
const LOCK_FILE = '.llm-lab-download.lock';

interface DoneRecord {
  [file: string]: { size: number; sha256?: string; gitOid?: string; mtimeMs: number };
}

async function readDone(dir: string): Promise<DoneRecord> {
  try {
    const v = JSON.parse(await fsp.readFile(path.join(dir, DONE_FILE), 'utf8')) as unknown;
    return v && typeof v === 'object' ? (v as DoneRecord) : {};
  } catch {
    return {};
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes the folder's download lock (one download into a folder at a time); a lock of a process that is gone is taken over. */
async function lockFolder(dir: string): Promise<() => Promise<void>> {
  const file = path.join(dir, LOCK_FILE);
  for (let tries = 0; tries < 2; tries++) {
    try {
      await fsp.writeFile(file, String(process.pid), { flag: 'wx' });
      return () => fsp.rm(file, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const pid = Number(await fsp.readFile(file, 'utf8').catch(() => ''));
      if (Number.isInteger(pid) && pid > 0 && pidAlive(pid)) {
        throw new LlmLabError('busy', `Another download into ${dir} is running (pid ${pid}); wait for it to finish or stop it, then try again.`);
      }
      await fsp.rm(file, { force: true }); // left by a process that is gone
    }
  }
  throw new LlmLabError('busy', `Could not take the download lock ${file}; remove it if no download is running.`);
}

async function freeBytes(dir: string): Promise<number | undefined> {
  try {
    const s = await fsp.statfs(dir);
    return s.bavail * s.bsize;
  } catch {
    return undefined;
  }
}

async function sizeOf(file: string): Promise<number | undefined> {
  try {
    return (await fsp.stat(file)).size;
  } catch {
    return undefined;
  }
}

/**
 * Downloads a GPT-2 model folder (see the module comment). Files already downloaded and verified are kept; an
 * interrupted download resumes. Rejects with CancelledError on cancel (partial files kept) or an LlmLabError.
 */
export async function downloadModel(name: string, options: DownloadModelOptions = {}): Promise<DownloadModelResult> {
  if (!isGpt2ModelName(name)) {
    throw new LlmLabError('bad-argument', `There is no GPT-2 model '${name}'; choose one of ${GPT2_MODEL_NAMES.join(', ')}.`);
  }
  const env = options.env ?? process.env;
  const base = hubBaseUrl(options.baseUrl, env);
  const { repo } = GPT2_MODELS[name];
  const dir = path.resolve(options.to ?? path.join(modelCacheDir(env), name));
  try {
    await fsp.mkdir(dir, { recursive: true });
  } catch (e) {
    throw new LlmLabError('io', `Could not create the model folder ${dir} (${(e as NodeJS.ErrnoException).code ?? String(e)}); choose another folder with --to.`);
  }
  const unlock = await lockFolder(dir);
  try {
    const done = await readDone(dir);
    const plans: { file: string; url: string; expected: Expected; dest: string; have?: number }[] = [];
    let api: Map<string, Expected> | undefined;
    for (const file of MODEL_FILES) {
      const url = resolveUrl(base, repo, file);
      let expected = await fileMetadata(url, options.signal);
      if (!expected.sha256 && !expected.gitOid) {
        api ??= await apiMetadata(base, repo, options.signal);
        expected = { ...api.get(file), ...Object.fromEntries(Object.entries(expected).filter(([, v]) => v !== undefined)) };
      }
      const dest = path.join(dir, file);
      const have = await sizeOf(dest);
      if (have !== undefined && !done[file]) {
        throw new LlmLabError(
          'bad-argument',
          `${dest} is already there and was not downloaded by LLM Lab; it is left untouched. Choose an empty folder (or none, for the cache) with --to.`,
        );
      }
      plans.push({ file, url, expected, dest, have });
    }
    // Room on disk for what is still to come.
    let needed = 0;
    for (const p of plans) {
      if (p.expected.size === undefined || upToDate(done[p.file], p.expected, p.have)) continue;
      needed += p.expected.size - ((await sizeOf(partialPath(p.dest))) ?? 0);
    }
    const free = await freeBytes(dir);
    if (free !== undefined && needed > free) {
      throw new LlmLabError('io', `${name} needs ${formatBytes(needed)} more on disk but ${dir} has ${formatBytes(free)} free; free some space or choose another folder with --to.`);
    }
    const files: DownloadedFile[] = [];
    for (const p of plans) {
      if (upToDate(done[p.file], p.expected, p.have)) {
        files.push({ name: p.file, bytes: p.have ?? 0, alreadyThere: true });
        continue;
      }
      const r = await fetchFile(p.url, p.dest, {
        expected: p.expected,
        signal: options.signal,
        retries: options.retries,
        retryDelayMs: options.retryDelayMs,
        onProgress: (pr) => options.onProgress?.({ ...pr, file: p.file }),
      });
      if (p.file === 'config.json') await checkConfig(p.dest, p.url);
      const stat = await fsp.stat(p.dest);
      done[p.file] = { size: stat.size, sha256: p.expected.sha256, gitOid: p.expected.gitOid, mtimeMs: stat.mtimeMs };
      await fsp.writeFile(path.join(dir, DONE_FILE), JSON.stringify(done, null, 2));
      files.push({ name: p.file, alreadyThere: false, ...r });
    }
    return { name, dir, baseUrl: base, files };
  } finally {
    await unlock();
  }
}

/** A file downloaded and verified earlier, unchanged since and still what the hub publishes. */
function upToDate(rec: DoneRecord[string] | undefined, expected: Expected, have: number | undefined): boolean {
  if (!rec || have === undefined || rec.size !== have) return false;
  if (expected.size !== undefined && expected.size !== have) return false;
  if (expected.sha256 && rec.sha256 !== expected.sha256) return false;
  if (expected.gitOid && rec.gitOid !== expected.gitOid) return false;
  return true;
}

/** A config.json that is not a GPT-2 config (a mirror's error page, another architecture) is refused and removed. */
async function checkConfig(file: string, url: string): Promise<void> {
  try {
    fromHfConfig(file, JSON.parse(await fsp.readFile(file, 'utf8')));
  } catch (e) {
    await fsp.rm(file, { force: true });
    const why = e instanceof LlmLabError ? e.message : 'it is not JSON';
    throw new LlmLabError('bad-data', `${url} is not a GPT-2 config.json LLM Lab can run (${why}); check the hub address.`);
  }
}

export interface DownloadedModel {
  name: string;
  dir: string;
}

/** Models in the cache folder that are complete (config.json and model.safetensors both there). */
export async function listDownloadedModels(cacheDir: string = modelCacheDir()): Promise<DownloadedModel[]> {
  let names: string[];
  try {
    names = await fsp.readdir(cacheDir);
  } catch {
    return [];
  }
  const out: DownloadedModel[] = [];
  for (const n of names.sort()) {
    const dir = path.join(cacheDir, n);
    const sizes = await Promise.all(MODEL_FILES.map((f) => sizeOf(path.join(dir, f))));
    if (sizes.every((s) => s !== undefined)) out.push({ name: n, dir });
  }
  return out;
}
