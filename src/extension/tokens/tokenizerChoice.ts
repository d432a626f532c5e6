// Which tokenizer the editor's token views use: an encoding, or a trained tokenizer's folder (named in the
// settings, or the selected model's own). The worker is sent the encoding, and the folder when there is one.
import * as path from 'node:path';
import { LlmLabError } from '../../core/errors';
import type { Encoding } from '../../protocol/model';
import { ENCODINGS } from '../../protocol/model';

export interface TokenizerChoice {
  /** The encoding used when there is no folder (and sent along either way). */
  encoding: Encoding;
  /** A trained tokenizer's folder, or a checkpoint folder holding one. */
  dir?: string;
  /** What the views call it: the encoding or the trained tokenizer's name. */
  label: string;
}

export function encodingChoice(encoding: Encoding): TokenizerChoice {
  return { encoding, label: encoding };
}

/** The choice a model's info names: its trained tokenizer's folder, or its encoding. */
export function modelChoice(info: { tokenizer: string; tokenizerDir?: string }): TokenizerChoice {
  if (info.tokenizerDir !== undefined) return { encoding: 'gpt2', dir: info.tokenizerDir, label: info.tokenizer };
  const known = (ENCODINGS as readonly string[]).includes(info.tokenizer);
  return encodingChoice(known ? (info.tokenizer as Encoding) : 'gpt2');
}

/** The tokenize request's tokenizer fields. */
export function tokenizeParams(c: TokenizerChoice): { encoding: Encoding; tokenizerDir?: string } {
  return c.dir !== undefined ? { encoding: c.encoding, tokenizerDir: c.dir } : { encoding: c.encoding };
}

/** The trained tokenizer the settings name (its folder relative to `root`, the first workspace folder). */
export function trainedChoice(folder: string, root: string | undefined): TokenizerChoice {
  if (folder.trim() === '') {
    throw new LlmLabError(
      'bad-argument',
      "llmLab.tokenizer.encoding is 'trained' but llmLab.tokenizer.trainedFolder is empty: run Train Tokenizer on Workspace, or set the folder of a trained tokenizer.",
    );
  }
  const dir = path.isAbsolute(folder) || root === undefined ? path.resolve(folder) : path.resolve(root, folder);
  return { encoding: 'gpt2', dir, label: path.basename(dir) };
}
