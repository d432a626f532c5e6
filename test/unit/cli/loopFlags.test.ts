// The loop flags both fine-tuning commands share: what they give the library, their help with the task's
// defaults, and library errors put back into the flags the user typed.
import * as assert from 'node:assert/strict';
import { parseFlags } from '../../../src/cli/args';
import { finetuneFlagNames, loopFlagOptions, loopFromFlags } from '../../../src/cli/commands/loopFlags';
import { TRAINING_OPTIONS, trainingOptions } from '../../../src/cli/commands/pretrain';
import { CLASSIFY_DEFAULTS } from '../../../src/core/classify/options';
import { LlmLabError } from '../../../src/core/errors';
import { INSTRUCT_DEFAULTS } from '../../../src/core/instruct/options';

const WORDS = { rows: 'records', evaluation: 'Validation loss', seeds: 'the data order' };

describe('fine-tuning loop flags', () => {
  const specs = loopFlagOptions(INSTRUCT_DEFAULTS, WORDS);
  const read = (argv: string[]) => loopFromFlags(parseFlags('finetune instruct', specs, argv, false).values);

  it('gives the library only the settings the flags name, by the library’s names', () => {
    assert.deepEqual(read([]), {});
    assert.deepEqual(
      read(['--epochs', '3', '--batch', '4', '--grad-accum', '2', '--lr', '1e-4', '--min-lr', '0', '--warmup', '5', '--weight-decay', '0',
        '--grad-clip', '1.5', '--val-fraction', '0.2', '--test-fraction', '0', '--eval-every', '0', '--eval-batches', '7',
        '--checkpoint-every', '10', '--keep-checkpoints', '0', '--seed', '9', '--resume']),
      { epochs: 3, batchSize: 4, gradAccumSteps: 2, lr: 1e-4, minLr: 0, warmupSteps: 5, weightDecay: 0, gradClip: 1.5, valFraction: 0.2,
        testFraction: 0, evalEvery: 0, evalBatches: 7, checkpointEvery: 10, keepCheckpoints: 0, seed: 9, resume: true },
    );
  });

  it('reads pretraining’s loop flags with the same reader, without the fine-tuning ones', () => {
    const values = parseFlags('pretrain', TRAINING_OPTIONS, ['--steps', '20', '--batch', '4', '--lr', '1e-3', '--val-fraction', '0', '--seed', '5'], false).values;
    assert.deepEqual(trainingOptions(values), { steps: 20, batchSize: 4, lr: 1e-3, valFraction: 0, seed: 5 });
    assert.throws(() => parseFlags('pretrain', TRAINING_OPTIONS, ['--epochs', '2'], false), /Unknown flag --epochs for 'llm-lab pretrain'/);
  });

  it('refuses a value out of its range, naming the flag', () => {
    assert.throws(() => read(['--epochs', '0']), /^LlmLabError: --epochs must be a whole number ≥ 1, got '0'\.$/);
    assert.throws(() => read(['--lr', '0']), /--lr must be a number above 0 up to 10, got '0'/);
    assert.throws(() => read(['--test-fraction', '1']), /--test-fraction must be a number from 0 to 0\.99, got '1'/);
  });

  it('shows each task’s own defaults and words in the help', () => {
    const c = loopFlagOptions(CLASSIFY_DEFAULTS, { rows: 'examples', evaluation: 'Validation loss and accuracy', seeds: 'the split' });
    assert.equal(c.epochs.help, 'Passes over the training examples (default 5).');
    assert.equal(c.batch.help, 'Examples per step (default 8).');
    assert.match(c['test-fraction'].help, /\(default 0\.2\)/);
    assert.equal(c.seed.help, 'Seed of the split (default 123).');
    assert.equal(specs.epochs.help, 'Passes over the training records (default 2).');
    assert.match(specs['eval-every'].help, /^Validation loss every N steps.*\(default 5\)/);
  });

  it('puts the flags into library messages, the loop’s and the task’s, without touching other words', () => {
    const named = (message: string, task: Record<string, string> = {}): string => {
      const e = finetuneFlagNames(new LlmLabError('bad-argument', message), task);
      assert.ok(e instanceof LlmLabError);
      return e.message;
    };
    assert.equal(
      named('Training options valFraction (0.5) and testFraction (0.5) leave nothing to train on; keep their sum below 1.'),
      '--val-fraction (0.5) and --test-fraction (0.5) leave nothing to train on; keep their sum below 1.',
    );
    assert.equal(named('Training option minLr must be between 0 and lr (0.001), got 0.002.'), '--min-lr must be between 0 and --lr (0.001), got 0.002.');
    assert.equal(named('Training option epochs must be a whole number ≥ 1, got 0.'), '--epochs must be a whole number ≥ 1, got 0.');
    assert.equal(named('Training option evalBatches must be a whole number ≥ 0, got -1.'), '--eval-batches must be a whole number ≥ 0, got -1.');
    assert.equal(named('Training option dropout must be in [0, 1), got 1.', { dropout: '--dropout' }), '--dropout must be in [0, 1), got 1.');
    assert.equal(named('Training option dropout must be in [0, 1), got 1.'), 'Training option dropout must be in [0, 1), got 1.');
    const other = new Error('disk full');
    assert.equal(finetuneFlagNames(other, {}), other);
  });
});
