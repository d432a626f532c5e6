// `llm-lab tokenize`: a text's token ids, token strings and their character spans. With a trained tokenizer's
// folder as the encoding it also counts GPT-2's tokens of the same text, side by side. A large file is tokenized
// in pieces and written out as it goes (waiting for a slow reader), so its size is bounded by the disk rather
// than by memory, and Ctrl-C stops it between pieces.
import * as path from 'node:path';
import { str } from '../args';
import type { Command } from '../command';
import { LlmLabError, yieldAndCheck } from '../../core/errors';
import type { EncodingName, Tokenizer } from '../../core/tokenizer';
import { ENCODING_NAMES, getTokenizer } from '../../core/tokenizer';
import { isTokenizerFolder, loadTokenizer } from '../../core/tokenizer/files';
import type { CliIo } from '../io';
import { println } from '../io';
import { maxFileBytes, maxFileOption, readTextFile } from './shared';

/** Largest file tokenize reads: V8 cannot hold a much longer string. */
const TOKENIZE_MAX_BYTES = 256 * 1024 * 1024;

/** Ids and spans of a whole text, compact (a 50 MB text has about 12 million tokens). */
interface Tokens {
  ids: Int32Array;
  spans: Int32Array; // start, end per token
  count: number;
}

async function tokenizeAll(io: CliIo, tokenizer: Tokenizer, text: string, allowSpecial: boolean): Promise<Tokens> {
  let ids = new Int32Array(1024);
  let spans = new Int32Array(2048);
  let count = 0;
  for (const piece of tokenizer.tokenizeChunks(text, { allowSpecial })) {
    if (count + piece.ids.length > ids.length) {
      const size = Math.max(2 * ids.length, count + piece.ids.length);
      const grown = new Int32Array(size);
      grown.set(ids.subarray(0, count));
      ids = grown;
      const grownSpans = new Int32Array(2 * size);
      grownSpans.set(spans.subarray(0, 2 * count));
      spans = grownSpans;
    }
    piece.ids.forEach((id, i) => {
      ids[count + i] = id;
      spans[2 * (count + i)] = piece.spans[i][0];
      spans[2 * (count + i) + 1] = piece.spans[i][1];
    });
    count += piece.ids.length;
    await yieldAndCheck(io.signal);
  }
  return { ids, spans, count };
}

const BLOCK = 4096;

/** Writes `n` rows made by `row(i)` in blocks, waiting for the reader and stopping on Ctrl-C between blocks. */
async function writeRows(io: CliIo, n: number, row: (i: number) => string): Promise<void> {
  for (let b = 0; b < n; b += BLOCK) {
    let text = '';
    for (let i = b; i < Math.min(n, b + BLOCK); i++) text += row(i);
    io.stdout.write(text);
    await io.stdout.drained?.();
    await yieldAndCheck(io.signal);
  }
}

/** Writes one array member of the JSON document, laid out as JSON.stringify(v, null, 2) would. */
async function writeJsonArray(io: CliIo, key: string, n: number, item: (i: number) => string, last: boolean): Promise<void> {
  const close = last ? '' : ',';
  if (n === 0) {
    io.stdout.write(`  "${key}": []${close}\n`);
    return;
  }
  io.stdout.write(`  "${key}": [\n`);
  await writeRows(io, n, (i) => `    ${item(i)}${i < n - 1 ? ',' : ''}\n`);
  io.stdout.write(`  ]${close}\n`);
}

export const tokenizeCommand: Command = {
  name: 'tokenize',
  summary: 'Show the token ids, tokens and character spans of a text.',
  usage: 'tokenize [--encoding gpt2|DIR] [--file FILE | TEXT...]',
  description: '<|endoftext|> in the text counts as the special token unless --no-special is given.',
  options: {
    encoding: { type: 'string', value: 'NAME', help: `Encoding: ${ENCODING_NAMES.join(', ')} (default gpt2), or a trained tokenizer's folder.` },
    file: { type: 'string', value: 'FILE', help: 'Tokenize this UTF-8 text file instead of the text on the command line.' },
    'no-special': { type: 'boolean', help: 'Treat <|endoftext|> as plain text.' },
    ...maxFileOption(TOKENIZE_MAX_BYTES),
  },
  positionals: true,
  examples: ["llm-lab tokenize 'Hello, do you like tea?'", 'llm-lab tokenize --file samples/the-verdict.txt --json',
    "llm-lab tokenize --encoding cl100k_base 'naïve café'",
    'llm-lab tokenize --encoding tokenizers/verdict --file samples/the-verdict.txt',
  ],
  async run({ values, positionals, io, json }) {
    const encoding = str(values, 'encoding') ?? 'gpt2';
    const file = str(values, 'file');
    if (file && positionals.length) throw new LlmLabError('bad-argument', "Give --file or a text, not both; see 'llm-lab tokenize --help'.");
    if (!file && !positionals.length) throw new LlmLabError('bad-argument', "Give a text to tokenize (or --file FILE); see 'llm-lab tokenize --help'.");
    const text = file ? await readTextFile(io, file, 'File', maxFileBytes(values, TOKENIZE_MAX_BYTES, TOKENIZE_MAX_BYTES)) : positionals.join(' ');
    const trained = !(ENCODING_NAMES as readonly string[]).includes(encoding);
    const tokenizer = await openEncoding(io.cwd, encoding);
    const allowSpecial = values['no-special'] !== true;
    const t = await tokenizeAll(io, tokenizer, text, allowSpecial);
    const gpt2Count = trained ? getTokenizer('gpt2').encode(text, { allowSpecial }).length : undefined;
    const piece = (i: number) => tokenizer.decode([t.ids[i]]);
    if (json) {
      io.stdout.write(`{\n  "encoding": ${JSON.stringify(tokenizer.name)},\n  "count": ${t.count},\n${trained ? `  "gpt2Count": ${gpt2Count},\n` : ''}`);
      await writeJsonArray(io, 'ids', t.count, (i) => String(t.ids[i]), false);
      await writeJsonArray(io, 'tokens', t.count, (i) => JSON.stringify(piece(i)), false);
      await writeJsonArray(io, 'spans', t.count, (i) => `[\n      ${t.spans[2 * i]},\n      ${t.spans[2 * i + 1]}\n    ]`, true);
      io.stdout.write('}\n');
      return;
    }
    if (trained) println(io.stdout, `${t.count} tokens (${tokenizer.name})  vs  ${gpt2Count} tokens (gpt2)  for ${text.length} characters`);
    else println(io.stdout, `${t.count} tokens (${encoding})`);
    const w = String(t.count - 1).length;
    await writeRows(io, t.count, (i) => {
      const [s, e] = [t.spans[2 * i], t.spans[2 * i + 1]];
      return `${String(i).padStart(w)}  ${String(t.ids[i]).padStart(6)}  ${JSON.stringify(piece(i)).padEnd(18)} [${s}, ${e})\n`;
    });
  },
};

/** A built-in encoding by name, or the trained tokenizer in a folder. */
async function openEncoding(cwd: string, encoding: string): Promise<Tokenizer> {
  if ((ENCODING_NAMES as readonly string[]).includes(encoding)) return getTokenizer(encoding as EncodingName);
  const dir = path.resolve(cwd, encoding);
  if (!(await isTokenizerFolder(dir))) {
    throw new LlmLabError(
      'bad-argument',
      `--encoding must be one of ${ENCODING_NAMES.join(', ')} or a folder made by 'llm-lab tokenizer train'; ${dir} holds no tokenizer.`,
    );
  }
  return loadTokenizer(dir);
}
