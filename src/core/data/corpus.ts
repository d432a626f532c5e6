// Loads a pretraining corpus from files, folders (recursive) and glob patterns: reads text files only, skips
// binary, undecodable and oversized files (each reported with a reason), and joins the documents with
// `<|endoftext|>` in a deterministic order. Never writes to any file.
import type { Stats } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import picomatch from 'picomatch';
import { LlmLabError, throwIfAborted } from '../errors';

/** Placed between documents; the GPT-2 tokenizer turns it into its end-of-text token when specials are allowed. */
export const DOCUMENT_SEPARATOR = '<|endoftext|>';
/** Files larger than this are skipped unless `maxFileBytes` says otherwise. */
export const DEFAULT_MAX_FILE_BYTES = 2 * 1024 * 1024;

export interface CorpusOptions {
  /** Folder that relative patterns start from (default: the process's working directory). */
  cwd?: string;
  /** Size cap per file in bytes (default 2 MB); larger files are skipped and reported. */
  maxFileBytes?: number;
  /** How the user raises the cap, added to the reason a file is skipped for size (e.g. "raise --max-file-mb"). */
  sizeHint?: string;
  signal?: AbortSignal;
  /** Called after each file with how many of the matched files have been looked at. */
  onProgress?: (done: number, total: number) => void;
}

export interface Corpus {
  /** Files used, in order, with absolute paths and their size on disk. */
  files: { path: string; bytes: number }[];
  /** Files (or patterns that matched nothing) left out, and why. */
  skipped: { path: string; reason: string }[];
  /** One text per used file, in the order of `files`. */
  documents: string[];
  /** The documents joined with DOCUMENT_SEPARATOR. */
  text: string;
}

/**
 * Resolves the patterns in order: an existing file is taken as is, a folder is read recursively, anything
 * else with glob characters is matched under its literal base folder. Walking skips hidden entries (names
 * starting with ".") and node_modules. Each pattern's files are sorted by path; a file named twice is read once.
 */
export async function loadCorpus(patterns: string[], opts: CorpusOptions = {}): Promise<Corpus> {
  if (!Array.isArray(patterns) || patterns.length === 0 || patterns.some((p) => typeof p !== 'string' || p === '')) {
    throw new LlmLabError('bad-argument', 'Give at least one file, folder or glob pattern for the corpus.');
  }
  const cwd = resolve(opts.cwd ?? process.cwd());
  const maxBytes = opts.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
  if (!(maxBytes > 0)) throw new LlmLabError('bad-argument', `maxFileBytes must be a positive number of bytes, got ${maxBytes}.`);

  const skipped: Corpus['skipped'] = [];
  const candidates: string[] = [];
  const seen = new Set<string>();
  for (const pattern of patterns) {
    throwIfAborted(opts.signal);
    const found = await expand(pattern, cwd, opts.signal);
    if (found === undefined) skipped.push({ path: pattern, reason: 'no such file or folder' });
    else if (found.length === 0) skipped.push({ path: pattern, reason: 'matched no files' });
    for (const f of found ?? []) {
      if (!seen.has(f)) {
        seen.add(f);
        candidates.push(f);
      }
    }
  }
  if (candidates.length === 0) {
    throw new LlmLabError('not-found', `No files match ${patterns.map((p) => `"${p}"`).join(', ')} (relative to ${cwd}). Check the paths or glob patterns.`);
  }

  const files: Corpus['files'] = [];
  const documents: string[] = [];
  for (let k = 0; k < candidates.length; k++) {
    throwIfAborted(opts.signal);
    const path = candidates[k];
    const result = await readTextDocument(path, maxBytes, opts.sizeHint);
    if (typeof result === 'string') skipped.push({ path, reason: result });
    else {
      files.push({ path, bytes: result.bytes });
      documents.push(result.text);
    }
    opts.onProgress?.(k + 1, candidates.length);
  }
  if (documents.length === 0) {
    const why = skipped.slice(0, 3).map((s) => `${relative(cwd, s.path) || s.path}: ${s.reason}`);
    throw new LlmLabError(
      'bad-data',
      `All ${candidates.length} matched file(s) were skipped (${why.join('; ')}${skipped.length > 3 ? '; ...' : ''}). Point the corpus at UTF-8 text files.`,
    );
  }
  return { files, skipped, documents, text: documents.join(DOCUMENT_SEPARATOR) };
}

/** Absolute paths of the files a pattern names, sorted; undefined when it names nothing that exists. */
async function expand(pattern: string, cwd: string, signal: AbortSignal | undefined): Promise<string[] | undefined> {
  const abs = resolve(cwd, pattern);
  const st = await stat(abs).catch(() => undefined);
  if (st?.isFile()) return [abs];
  if (st?.isDirectory()) return walk(abs, signal);
  const scan = picomatch.scan(pattern.split(sep).join('/'));
  if (!scan.isGlob) return undefined;
  const base = isAbsolute(scan.base) ? scan.base : resolve(cwd, scan.base || '.');
  const match = picomatch(scan.glob, { dot: false });
  const baseStat = await stat(base).catch(() => undefined);
  if (!baseStat?.isDirectory()) return [];
  return (await walk(base, signal)).filter((f) => match(relative(base, f).split(sep).join('/')));
}

/** All files under a folder, depth first, sorted by path; hidden entries and node_modules are skipped. */
async function walk(dir: string, signal: AbortSignal | undefined): Promise<string[]> {
  throwIfAborted(signal);
  const out: string[] = [];
  const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    if (e.name.startsWith('.') || e.name === 'node_modules') continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(p, signal)));
    else if (e.isFile()) out.push(p);
    else if (e.isSymbolicLink()) {
      const st: Stats | undefined = await stat(p).catch(() => undefined);
      if (st?.isFile()) out.push(p); // linked files are read; linked folders are not followed (no cycles)
    }
  }
  return out;
}

/**
 * A text file's content, or the reason it cannot be used as text: over the size cap (`hint` says how to raise
 * it), unreadable, empty, binary, or not UTF-8. Training, evaluation and tokenizing share this one rule.
 */
export async function readTextDocument(path: string, maxBytes: number, hint?: string): Promise<{ text: string; bytes: number } | string> {
  let size: number;
  let buf: Buffer;
  try {
    size = (await stat(path)).size;
    if (size > maxBytes) return `larger than the size cap (${formatBytes(size)} > ${formatBytes(maxBytes)})${hint ? `; ${hint} to include it` : ''}`;
    buf = await readFile(path);
  } catch (e) {
    return `could not be read (${(e as NodeJS.ErrnoException).code ?? String(e)})`;
  }
  if (buf.length === 0) return 'empty file';
  if (buf.includes(0)) return 'binary file (contains NUL bytes)';
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(buf); // a leading BOM is dropped
  } catch {
    return 'not valid UTF-8 (Latin-1 or another legacy encoding?); convert it to UTF-8 to use it';
  }
  let control = 0;
  for (let i = 0; i < text.length && i < 65536; i++) {
    const c = text.charCodeAt(i);
    if ((c < 32 && c !== 9 && c !== 10 && c !== 12 && c !== 13) || c === 127) control++;
  }
  if (control > Math.min(text.length, 65536) * 0.1) return 'binary file (mostly control characters)';
  if (text.trim() === '') return 'empty file (whitespace only)';
  return { text, bytes: size };
}

function formatBytes(n: number): string {
  return n >= 1024 * 1024 ? `${(n / (1024 * 1024)).toFixed(1)} MB` : n >= 1024 ? `${(n / 1024).toFixed(1)} KB` : `${n} B`;
}
