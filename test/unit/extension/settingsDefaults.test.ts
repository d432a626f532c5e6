// The manifest's setting defaults are the values core and the extension use when nothing is set: VS Code
// reads them from package.json, the CLI and the worker from core, so the two must say the same thing.
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_MAX_FILE_BYTES } from '../../../src/core/data/corpus';
import { PRETRAIN_DEFAULTS } from '../../../src/core/train/options';
import { DEFAULT_RUNS_FOLDER } from '../../../src/extension/runs';

interface Setting {
  default: unknown;
  description: string;
}
const manifest = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', '..', 'package.json'), 'utf8')) as {
  contributes: { configuration: { properties: Record<string, Setting> } };
};
const settings = manifest.contributes.configuration.properties;
const setting = (key: string): Setting => {
  const s = settings[`llmLab.${key}`];
  assert.ok(s, `package.json declares no setting llmLab.${key}`);
  return s;
};

describe('setting defaults', () => {
  it('are core’s training defaults', () => {
    const pairs: [string, unknown][] = [
      ['pretrain.preset', PRETRAIN_DEFAULTS.preset],
      ['pretrain.steps', PRETRAIN_DEFAULTS.steps],
      ['pretrain.batchSize', PRETRAIN_DEFAULTS.batchSize],
      ['pretrain.learningRate', PRETRAIN_DEFAULTS.lr],
      ['pretrain.evalEvery', PRETRAIN_DEFAULTS.evalEvery],
      ['pretrain.checkpointEvery', PRETRAIN_DEFAULTS.checkpointEvery],
      ['pretrain.maxFileBytes', DEFAULT_MAX_FILE_BYTES],
      ['runsFolder', DEFAULT_RUNS_FOLDER],
    ];
    for (const [key, value] of pairs) assert.deepEqual(setting(key).default, value, `llmLab.${key}`);
  });

  it('describe the warmup core applies: a tenth of the run, at most its default steps', () => {
    const d = setting('pretrain.learningRate').description;
    assert.match(d, /a tenth of the run/);
    assert.ok(d.includes(`at most ${PRETRAIN_DEFAULTS.warmupSteps} steps`), d);
  });
});
