// `llm-lab tokenize`: a text's token ids, token strings and their character spans. With a trained tokenizer's
// folder as the encoding it also counts GPT-2's tokens of the same text, side by side.
import * as path from 'node:path';
import { str } from '../args';
import type { Command } from '../command';
import { LlmLabError } from '../../core/errors';
import type { EncodingName, Tokenizer } from '../../core/tokenizer';
import { ENCODING_NAMES, getTokenizer } from '../../core/tokenizer';
import { isTokenizerFolder, loadTokenizer } from '../../core/tokenizer/files';
import { printJson, println } from '../io';
import { readTextFile } from './shared';

export const tokenizeCommand: Command = {
  name: 'tokenize',
  summary: 'Show the token ids, tokens and character spans of a text.',
  usage: 'tokenize [--encoding gpt2|DIR] [--file FILE | TEXT...]',
  description: '<|endoftext|> in the text counts as the special token unless --no-special is given.',
  options: {
    encoding: { type: 'string', value: 'NAME', help: `Encoding: ${ENCODING_NAMES.join(', ')} (default gpt2), or a trained tokenizer's folder.` },
    file: { type: 'string', value: 'FILE', help: 'Tokenize this file instead of the text on the command line.' },
    'no-special': { type: 'boolean', help: 'Treat <|endoftext|> as plain text.' },
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
    const text = file ? await readTextFile(io, file, 'File') : positionals.join(' ');
    const trained = !(ENCODING_NAMES as readonly string[]).includes(encoding);
    const tokenizer = await openEncoding(io.cwd, encoding);
    const allowSpecial = values['no-special'] !== true;
    const r = tokenizer.tokenize(text, { allowSpecial });
    const gpt2Count = trained ? getTokenizer('gpt2').encode(text, { allowSpecial }).length : undefined;
    if (json) {
      printJson(io, { encoding: tokenizer.name, count: r.ids.length, ...(trained ? { gpt2Count } : {}), ids: r.ids, tokens: r.tokens, spans: r.spans });
      return;
    }
    if (trained) println(io.stdout, `${r.ids.length} tokens (${tokenizer.name})  vs  ${gpt2Count} tokens (gpt2)  for ${text.length} characters`);
    else println(io.stdout, `${r.ids.length} tokens (${encoding})`);
    const w = String(r.ids.length - 1).length;
    r.ids.forEach((id, i) => {
      const [s, e] = r.spans[i];
      println(io.stdout, `${String(i).padStart(w)}  ${String(id).padStart(6)}  ${JSON.stringify(r.tokens[i]).padEnd(18)} [${s}, ${e})`);
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
