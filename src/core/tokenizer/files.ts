// A trained tokenizer's folder: `tokenizer.model` (the machine form LLM Lab loads: versioned text with the
// split pattern, the special tokens and one merge per line), `tokenizer.vocab` (the readable form: every token's
// text and the two tokens it joins, as minbpe keeps a .vocab beside its .model), and `tokenizer.json` (Hugging
// Face's layout, for `tokenizers`/`transformers`). Files are written atomically and never over existing ones.
import { promises as fsp, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../checkpoint/atomic';
import { LlmLabError } from '../errors';
import type { BpeModel } from './bpeModel';
import { firstSpecialId, vocabOfModel } from './bpeModel';
import { fromHfJson, toHfJson } from './hfJson';
import type { Tokenizer } from './index';
import { tokenizerFromVocab } from './index';
import type { SplitPattern } from './vocab';
import { SPLIT_PATTERNS } from './vocab';

/** The files of a tokenizer folder. */
export const TOKENIZER_FILES = { model: 'tokenizer.model', vocab: 'tokenizer.vocab', hf: 'tokenizer.json' } as const;

const MAGIC = 'llm-lab bpe 1';

/** The machine form: a magic line, `name`, `pattern`, the specials as JSON strings, then `left right` per merge. */
export function modelText(model: BpeModel): string {
  const lines = [MAGIC, `name ${JSON.stringify(model.name)}`, `pattern ${model.pattern}`, `specials ${model.specials.length}`];
  for (const s of model.specials) lines.push(JSON.stringify(s));
  lines.push(`merges ${model.merges.length}`);
  for (const [l, r] of model.merges) lines.push(`${l} ${r}`);
  return lines.join('\n') + '\n';
}

/** Parses the machine form; `where` names the file in messages. */
export function parseModelText(text: string, where: string): BpeModel {
  const lines = text.split('\n');
  let at = 0;
  const fail = (what: string): never => {
    throw new LlmLabError('bad-checkpoint', `${where}, line ${at + 1}: ${what}. The file is damaged; train the tokenizer again with 'llm-lab tokenizer train'.`);
  };
  const field = (key: string): string => {
    const line = lines[at] ?? '';
    if (!line.startsWith(key + ' ')) fail(`expected "${key} ..."`);
    return line.slice(key.length + 1);
  };
  const json = (raw: string): unknown => {
    try {
      return JSON.parse(raw);
    } catch {
      return fail('not a JSON string');
    }
  };
  const count = (raw: string): number => (/^\d+$/.test(raw) ? Number(raw) : fail('expected a count'));
  if (lines[0] !== MAGIC) {
    throw new LlmLabError('bad-checkpoint', `${where} is not an LLM Lab tokenizer (its first line should be "${MAGIC}"). Point at a folder made by 'llm-lab tokenizer train'.`);
  }
  at = 1;
  const name = json(field('name'));
  if (typeof name !== 'string') fail('the name must be a JSON string');
  at = 2;
  const pattern = field('pattern') as SplitPattern;
  if (!SPLIT_PATTERNS.includes(pattern)) fail(`unknown split pattern '${pattern}'`);
  at = 3;
  const nSpecials = count(field('specials'));
  const specials: string[] = [];
  for (let k = 0; k < nSpecials; k++) {
    at++;
    const s = json(lines[at] ?? '');
    if (typeof s !== 'string') fail('a special token must be a JSON string');
    specials.push(s as string);
  }
  at++;
  const nMerges = count(field('merges'));
  const merges: Array<[number, number]> = [];
  for (let i = 0; i < nMerges; i++) {
    at++;
    const m = /^(\d+) (\d+)$/.exec(lines[at] ?? '');
    if (!m) fail(`expected merge ${i + 1} of ${nMerges} as "left right"`);
    merges.push([Number((m as RegExpExecArray)[1]), Number((m as RegExpExecArray)[2])]);
  }
  at++;
  if (lines.slice(at).some((l) => l !== '')) fail('unexpected text after the merges');
  return { name: name as string, pattern, merges, specials };
}

/** A token's bytes for people: UTF-8 text where valid, with \n, \r, \t, \\ and \xNN for the rest. */
export function renderBytes(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; ) {
    const b = bytes[i];
    const n = b >= 0xf0 && b < 0xf5 ? 4 : b >= 0xe0 ? 3 : b >= 0xc2 && b < 0xe0 ? 2 : 1;
    if (b >= 0x80 && n > 1 && i + n <= bytes.length) {
      try {
        out += new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(i, i + n));
        i += n;
        continue;
      } catch {
        // not a whole character: escaped below
      }
    }
    if (b === 0x0a) out += '\\n';
    else if (b === 0x0d) out += '\\r';
    else if (b === 0x09) out += '\\t';
    else if (b === 0x5c) out += '\\\\';
    else if (b < 0x20 || b >= 0x7f) out += `\\x${b.toString(16).padStart(2, '0')}`;
    else out += String.fromCharCode(b);
    i++;
  }
  return out;
}

/** The readable form: a header, then one token a line: `id [text]`, `= [left] + [right]` for merged tokens. */
export function vocabText(model: BpeModel, tokenizer: Tokenizer): string {
  const first = firstSpecialId(model);
  const lines = [
    `# LLM Lab BPE tokenizer ${JSON.stringify(model.name)}: ${tokenizer.vocabSize} tokens, ${model.merges.length} merges, split pattern ${model.pattern}.`,
    '# One token a line: its id, its bytes in [brackets] (\\n, \\t, \\xNN for bytes that are not text), and for',
    '# learned tokens the two tokens it joins. Merges are listed in the order they were learned (id = 256 + merge).',
  ];
  const show = (id: number): string => `[${renderBytes(tokenizer.tokenBytes(id))}]`;
  for (let id = 0; id < first; id++) {
    const m = id >= 256 ? model.merges[id - 256] : undefined;
    lines.push(m ? `${id} ${show(id)} = ${show(m[0])} + ${show(m[1])}` : `${id} ${show(id)}`);
  }
  model.specials.forEach((s, k) => lines.push(`${first + k} ${s} (special)`));
  return lines.join('\n') + '\n';
}

async function exists(file: string): Promise<boolean> {
  return fsp.stat(file).then(
    () => true,
    () => false,
  );
}

/** Throws when `dir` already holds any tokenizer file (call before long training, and again when saving). */
export async function checkTokenizerTarget(dir: string): Promise<void> {
  for (const f of Object.values(TOKENIZER_FILES).map((name) => path.join(dir, name))) {
    if (await exists(f)) {
      throw new LlmLabError('bad-argument', `${f} already exists; LLM Lab never overwrites a tokenizer. Choose another output folder or move that one away.`);
    }
  }
}

/** Writes the three files into `dir` (created when missing); refuses when any of them is already there. */
export async function saveTokenizer(dir: string, model: BpeModel): Promise<string[]> {
  const tokenizer = tokenizerFromVocab(vocabOfModel(model, 'the trained tokenizer'));
  const files = Object.values(TOKENIZER_FILES).map((f) => path.join(dir, f));
  await checkTokenizerTarget(dir);
  try {
    await fsp.mkdir(dir, { recursive: true });
  } catch (e) {
    throw new LlmLabError('io', `Could not create the folder ${dir}: ${(e as Error).message}.`);
  }
  await writeTokenizerFiles(dir, model, tokenizer);
  return files;
}

/** Writes the three files into an existing folder that LLM Lab owns (a checkpoint being built, a run folder). */
export async function writeTokenizerFiles(dir: string, model: BpeModel, tokenizer?: Tokenizer): Promise<void> {
  const tok = tokenizer ?? tokenizerFromVocab(vocabOfModel(model, 'the trained tokenizer'));
  await writeFileAtomic(path.join(dir, TOKENIZER_FILES.model), [modelText(model)]);
  await writeFileAtomic(path.join(dir, TOKENIZER_FILES.vocab), [vocabText(model, tok)]);
  await writeFileAtomic(path.join(dir, TOKENIZER_FILES.hf), [JSON.stringify(toHfJson(model)) + '\n']);
}

/** Whether a folder holds a trained tokenizer (its machine form or its tokenizer.json). */
export async function isTokenizerFolder(dir: string): Promise<boolean> {
  return (await exists(path.join(dir, TOKENIZER_FILES.model))) || (await exists(path.join(dir, TOKENIZER_FILES.hf)));
}

/** Reads a tokenizer folder's model: tokenizer.model, or tokenizer.json when that is all it holds. */
export async function loadBpeModel(dir: string): Promise<BpeModel> {
  const name = path.basename(path.resolve(dir));
  const modelFile = path.join(dir, TOKENIZER_FILES.model);
  const hfFile = path.join(dir, TOKENIZER_FILES.hf);
  const read = (f: string): Promise<string | undefined> => fsp.readFile(f, 'utf8').catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT' || e.code === 'ENOTDIR') return undefined;
    throw new LlmLabError('io', `Could not read ${f}: ${e.message}.`);
  });
  const text = await read(modelFile);
  if (text !== undefined) return parseModelText(text, modelFile);
  const hf = await read(hfFile);
  if (hf === undefined) {
    throw new LlmLabError('not-found', `${dir} holds no tokenizer (no ${TOKENIZER_FILES.model} or ${TOKENIZER_FILES.hf}). Train one with 'llm-lab tokenizer train --out ${dir}'.`);
  }
  let json: unknown;
  try {
    json = JSON.parse(hf);
  } catch {
    throw new LlmLabError('bad-checkpoint', `${hfFile} is not valid JSON; the file is damaged.`);
  }
  return fromHfJson(json, name, hfFile);
}

/** The tokenizer saved in a folder. */
export async function loadTokenizer(dir: string): Promise<Tokenizer> {
  const model = await loadBpeModel(dir);
  return tokenizerFromVocab(vocabOfModel(model, path.join(dir, TOKENIZER_FILES.model)));
}

const syncCache = new Map<string, { stamp: string; tokenizer: Tokenizer }>();

/** The tokenizer a folder's tokenizer.model holds, read synchronously and kept while the file is unchanged. */
export function loadTokenizerSync(dir: string): Tokenizer {
  const file = path.join(dir, TOKENIZER_FILES.model);
  let stamp: string;
  let text: string;
  try {
    const st = statSync(file);
    stamp = `${st.mtimeMs}:${st.size}`;
    const hit = syncCache.get(file);
    if (hit?.stamp === stamp) return hit.tokenizer;
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new LlmLabError(
        'bad-checkpoint',
        `${dir} holds no ${TOKENIZER_FILES.model}: a model trained with its own tokenizer keeps it beside config.json, and 'llm-lab tokenizer train' (or Train Tokenizer on Workspace) makes a tokenizer folder.`,
      );
    }
    throw new LlmLabError('io', `Could not read ${file}: ${(e as Error).message}.`);
  }
  const tokenizer = tokenizerFromVocab(vocabOfModel(parseModelText(text, file), file));
  syncCache.set(file, { stamp, tokenizer });
  return tokenizer;
}
