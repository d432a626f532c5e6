// `llm-lab tokenizer train`: learns a byte-level BPE tokenizer from text files and saves it (tokenizer.model,
// tokenizer.vocab, tokenizer.json), with a progress bar, Ctrl-C to stop, and its compression beside GPT-2's.
import * as path from 'node:path';
import { choice, int, list, required, str } from '../args';
import type { Command } from '../command';
import { loadCorpus } from '../../core/data';
import { LlmLabError } from '../../core/errors';
import { getTokenizer, tokenizerFromVocab } from '../../core/tokenizer';
import { vocabOfModel } from '../../core/tokenizer/bpeModel';
import { measureCompression } from '../../core/tokenizer/compression';
import { checkTokenizerTarget, saveTokenizer } from '../../core/tokenizer/files';
import type { TrainProgress } from '../../core/tokenizer/train';
import { trainBpe } from '../../core/tokenizer/train';
import { duration, thousands } from '../format';
import { printJson, println } from '../io';
import { ProgressBar } from '../progress';

const PATTERNS = ['gpt2', 'gpt4'] as const;

export const tokenizerCommand: Command = {
  name: 'tokenizer',
  summary: 'Train a byte-level BPE tokenizer on your text (tokenizer train).',
  usage: 'tokenizer train --data PATH... --vocab-size N --out DIR [--pattern gpt2|gpt4] [--special TOKEN...]',
  description:
    "Learns merges from the files' pair counts (most frequent pair first; ties go to the pair with the smaller left " +
    'id, then the smaller right id) and saves tokenizer.model, tokenizer.vocab (readable) and tokenizer.json ' +
    "(Hugging Face's layout) in --out. <|endoftext|> is always a special token. Use the folder with " +
    "'llm-lab tokenize --encoding DIR' and 'llm-lab pretrain --tokenizer DIR'. Ctrl-C stops without writing.",
  options: {
    data: { type: 'string', multiple: true, value: 'PATH', help: 'Training text: files, folders or globs.' },
    'vocab-size': { type: 'string', value: 'N', help: 'Tokens in all: 256 bytes + merges + special tokens (e.g. 4096).' },
    out: { type: 'string', value: 'DIR', help: 'Folder for the tokenizer files (must not hold a tokenizer yet).' },
    pattern: { type: 'string', value: 'P', help: "Pre-tokenization split: gpt2 (GPT-2's) or gpt4 (GPT-4's); default gpt2." },
    special: { type: 'string', multiple: true, value: 'TOKEN', help: 'A special token besides <|endoftext|>, e.g. <|pad|>.' },
    name: { type: 'string', value: 'NAME', help: "The tokenizer's name (default: the --out folder's name)." },
    'max-file-bytes': { type: 'string', value: 'N', help: 'Skip files larger than N bytes (default 2,097,152).' },
  },
  positionals: true,
  examples: [
    'llm-lab tokenizer train --data samples/the-verdict.txt --vocab-size 1000 --out tokenizers/verdict',
    "llm-lab tokenizer train --data 'src/**/*.ts' --vocab-size 8192 --pattern gpt4 --out tokenizers/code",
  ],
  async run({ values, positionals, io, json }) {
    const [sub, ...rest] = positionals;
    if (sub !== 'train') {
      throw new LlmLabError('bad-argument', `'llm-lab tokenizer' takes the subcommand 'train'${sub ? `, not '${sub}'` : ''}; see 'llm-lab tokenizer --help'.`);
    }
    const patterns = [...list(values, 'data'), ...rest];
    if (patterns.length === 0) throw new LlmLabError('bad-argument', "'llm-lab tokenizer train' needs --data PATH (files, folders or globs).");
    const vocabSize = int(values, 'vocab-size', 257, 1 << 20);
    if (vocabSize === undefined) throw new LlmLabError('bad-argument', "'llm-lab tokenizer train' needs --vocab-size N (e.g. 4096).");
    const out = path.resolve(io.cwd, required(values, 'tokenizer train', 'out', 'DIR (the tokenizer folder)'));
    const pattern = choice(values, 'pattern', PATTERNS) ?? 'gpt2';
    const maxFileBytes = int(values, 'max-file-bytes', 1);
    await checkTokenizerTarget(out);
    const corpus = await loadCorpus(patterns, { cwd: io.cwd, signal: io.signal, maxFileBytes });
    const bytes = corpus.files.reduce((s, f) => s + f.bytes, 0);
    if (!json) {
      println(io.stderr, `data: ${corpus.files.length} file${corpus.files.length === 1 ? '' : 's'}, ${thousands(bytes)} bytes${corpus.skipped.length ? `, ${corpus.skipped.length} skipped` : ''}`);
      for (const s of corpus.skipped.slice(0, 5)) println(io.stderr, `  skipped ${s.path}: ${s.reason}`);
    }
    const started = Date.now();
    let bar: ProgressBar | undefined;
    let phase: TrainProgress['phase'] | undefined;
    const onProgress = (p: TrainProgress): void => {
      if (json) return;
      if (p.phase !== phase) {
        bar?.done();
        phase = p.phase;
        bar = new ProgressBar({ sink: io.stderr, isTTY: io.isTTY, columns: io.columns, total: p.total, every: Math.max(1, Math.round(p.total / 10)) });
      }
      bar?.update(p.done, p.phase === 'count' ? 'splitting and counting' : 'merges');
    };
    const r = await trainBpe(corpus.documents, {
      vocabSize,
      pattern,
      specials: list(values, 'special'),
      name: str(values, 'name') ?? path.basename(out),
      signal: io.signal,
      onProgress,
    });
    bar?.done();
    const seconds = (Date.now() - started) / 1000;
    const files = await saveTokenizer(out, r.model);
    const trained = tokenizerFromVocab(vocabOfModel(r.model, files[0]));
    const [mine, gpt2] = await measureCompression(corpus.documents, [trained, getTokenizer('gpt2')], io.signal);
    const result = {
      out,
      files,
      vocabSize: trained.vocabSize,
      merges: r.model.merges.length,
      mergesWanted: r.mergesWanted,
      pattern,
      specials: r.model.specials,
      corpus: { files: corpus.files.length, bytes, pieces: r.pieces, distinctPieces: r.distinctPieces },
      seconds,
      compression: { trained: mine, gpt2 },
    };
    if (json) {
      printJson(io, result);
      return;
    }
    if (r.model.merges.length < r.mergesWanted) {
      println(io.stderr, `note: the text had pairs for only ${r.model.merges.length} of ${r.mergesWanted} merges; the vocabulary has ${trained.vocabSize} tokens.`);
    }
    println(io.stdout, `Learned ${thousands(r.model.merges.length)} merges (${thousands(trained.vocabSize)} tokens, ${pattern} split) from ${thousands(bytes)} bytes in ${duration(seconds * 1000)}.`);
    const shown = files.map((f) => (path.relative(io.cwd, f).startsWith('..') ? f : path.relative(io.cwd, f)));
    println(io.stdout, `Saved ${shown.join(', ')}`);
    println(io.stdout, 'Compression on the training files (tokens per character, lower is better):');
    for (const c of [mine, gpt2]) {
      println(io.stdout, `  ${c.name.padEnd(16)} ${thousands(c.tokens).padStart(12)} tokens  ${c.tokensPerChar.toFixed(4)} tokens/char`);
    }
  },
};
