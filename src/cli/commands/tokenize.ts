// `llm-lab tokenize`: a text's token ids, token strings and their character spans.
import { choice, str } from '../args';
import type { Command } from '../command';
import { LlmLabError } from '../../core/errors';
import { ENCODING_NAMES, getTokenizer } from '../../core/tokenizer';
import { printJson, println } from '../io';
import { readTextFile } from './shared';

export const tokenizeCommand: Command = {
  name: 'tokenize',
  summary: 'Show the token ids, tokens and character spans of a text.',
  usage: 'tokenize [--encoding gpt2] [--file FILE | TEXT...]',
  description: '<|endoftext|> in the text counts as the special token unless --no-special is given.',
  options: {
    encoding: { type: 'string', value: 'NAME', help: `Encoding: ${ENCODING_NAMES.join(', ')} (default gpt2).` },
    file: { type: 'string', value: 'FILE', help: 'Tokenize this file instead of the text on the command line.' },
    'no-special': { type: 'boolean', help: 'Treat <|endoftext|> as plain text.' },
  },
  positionals: true,
  examples: ["llm-lab tokenize 'Hello, do you like tea?'", 'llm-lab tokenize --file samples/the-verdict.txt --json', "llm-lab tokenize --encoding cl100k_base 'naïve café'"],
  async run({ values, positionals, io, json }) {
    const encoding = choice(values, 'encoding', ENCODING_NAMES) ?? 'gpt2';
    const file = str(values, 'file');
    if (file && positionals.length) throw new LlmLabError('bad-argument', "Give --file or a text, not both; see 'llm-lab tokenize --help'.");
    if (!file && !positionals.length) throw new LlmLabError('bad-argument', "Give a text to tokenize (or --file FILE); see 'llm-lab tokenize --help'.");
    const text = file ? await readTextFile(io, file, 'File') : positionals.join(' ');
    const tokenizer = getTokenizer(encoding);
    const r = tokenizer.tokenize(text, { allowSpecial: values['no-special'] !== true });
    if (json) {
      printJson(io, { encoding, count: r.ids.length, ids: r.ids, tokens: r.tokens, spans: r.spans });
      return;
    }
    println(io.stdout, `${r.ids.length} tokens (${encoding})`);
    const w = String(r.ids.length - 1).length;
    r.ids.forEach((id, i) => {
      const [s, e] = r.spans[i];
      println(io.stdout, `${String(i).padStart(w)}  ${String(id).padStart(6)}  ${JSON.stringify(r.tokens[i]).padEnd(18)} [${s}, ${e})`);
    });
  },
};
