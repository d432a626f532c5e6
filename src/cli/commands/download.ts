// `llm-lab download`: OpenAI's GPT-2 weights from the Hugging Face hub (or a mirror) into a local folder that
// every other command takes as --model; resumable, verified, with progress.
import * as path from 'node:path';
import { str } from '../args';
import type { Command } from '../command';
import { CancelledError, LlmLabError } from '../../core/errors';
import type { DownloadProgress } from '../../core/hub';
import { DEFAULT_HUB, GPT2_MODEL_NAMES, GPT2_MODELS, downloadModel, modelCacheDir } from '../../core/hub';
import { formatBytes } from '../../core/model/config';
import { printJson, println } from '../io';
import { ProgressBar } from '../progress';
import { compact, duration } from '../format';

export const downloadCommand: Command = {
  name: 'download',
  summary: 'Download OpenAI’s GPT-2 weights (gpt2, gpt2-medium, gpt2-large, gpt2-xl).',
  usage: `download ${GPT2_MODEL_NAMES.join('|')} [--to DIR] [--base-url URL]`,
  description:
    `Fetches config.json and model.safetensors of openai-community/<name> into ${modelCacheDir()}/<name> ` +
    '(the cache follows XDG_CACHE_HOME), or into --to DIR. Each file is checked against the size and SHA-256 the ' +
    'hub publishes and only then put in place. Ctrl-C keeps the partial file; the same command resumes it. ' +
    `The hub address is --base-url, else HF_ENDPOINT, else ${DEFAULT_HUB}.`,
  options: {
    to: { type: 'string', value: 'DIR', help: 'Folder to download into (default: the cache folder above).' },
    'base-url': { type: 'string', value: 'URL', help: 'Address of the hub or a mirror (default: HF_ENDPOINT or the Hugging Face hub).' },
  },
  positionals: true,
  examples: ['llm-lab download gpt2', 'llm-lab download gpt2-medium --to models/gpt2-medium', 'HF_ENDPOINT=https://mirror.example llm-lab download gpt2'],
  async run({ values, positionals, io, json }) {
    const [name, ...extra] = positionals;
    if (!name || extra.length > 0) {
      throw new LlmLabError('bad-argument', `'llm-lab download' takes one model name: ${GPT2_MODEL_NAMES.join(', ')}; see 'llm-lab download --help'.`);
    }
    if (!(GPT2_MODEL_NAMES as string[]).includes(name)) {
      throw new LlmLabError('bad-argument', `There is no GPT-2 model '${name}'; choose one of ${GPT2_MODEL_NAMES.join(', ')}.`);
    }
    const to = str(values, 'to');
    const started = Date.now();
    let bar: ProgressBar | undefined;
    let barFile = '';
    const onProgress = (p: DownloadProgress): void => {
      if (json || p.total === undefined) return;
      if (barFile !== p.file) {
        bar?.done();
        barFile = p.file;
        bar = new ProgressBar({ sink: io.stderr, isTTY: io.isTTY, columns: io.columns, total: p.total, formatCount: formatBytes });
      }
      const speed = p.bytesPerSec !== undefined ? `  ${formatBytes(p.bytesPerSec)}/s` : '';
      bar?.update(p.bytes, `${p.file}${speed}`);
    };
    if (!json) {
      const m = GPT2_MODELS[name as keyof typeof GPT2_MODELS];
      println(io.stderr, `Downloading ${name} (${compact(m.parameters)} parameters, about ${formatBytes(m.downloadBytes)}) from openai-community/${name}…`);
    }
    try {
      const r = await downloadModel(name, { baseUrl: str(values, 'base-url'), to: to === undefined ? undefined : path.resolve(io.cwd, to), signal: io.signal, onProgress });
      bar?.done();
      if (json) {
        printJson(io, { name: r.name, dir: r.dir, baseUrl: r.baseUrl, files: r.files });
      } else {
        for (const f of r.files) {
          const how = f.alreadyThere ? 'already downloaded' : `${f.verified === 'size' ? 'size checked (the server published no checksum)' : `${f.verified === 'sha256' ? 'SHA-256' : 'git blob id'} verified`}${f.resumedFrom ? `, resumed from ${formatBytes(f.resumedFrom)}` : ''}`;
          println(io.stderr, `  ${f.name}: ${formatBytes(f.bytes)}, ${how}`);
        }
        println(io.stderr, `Done in ${duration(Date.now() - started)}. Use it with --model ${r.dir}`);
        println(io.stdout, r.dir);
      }
      return 0;
    } catch (e) {
      bar?.done();
      if (e instanceof CancelledError) {
        println(io.stderr, `llm-lab: ${e.message}`);
        return 130;
      }
      throw e;
    }
  },
};
