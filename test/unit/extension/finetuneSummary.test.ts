// The summary shown before a fine-tuning run starts, from a worker plan written out by hand here.
import * as assert from 'node:assert/strict';
import { formatCount, planSummary } from '../../../src/extension/finetuneSummary';
import type { FinetunePlan } from '../../../src/protocol/worker';

const classifier: FinetunePlan = {
  task: 'classify',
  rows: 5572,
  split: { train: 1045, val: 149, test: 300 },
  labels: ['ham', 'spam'],
  perClass: { ham: 4825, spam: 747 },
  perClassBalanced: { ham: 747, spam: 747 },
  longest: 120,
  maxLength: 120,
  truncated: 0,
  epochs: 5,
  steps: 650,
  stepsPerEpoch: 130,
  parameters: 124_441_346,
  trainableParameters: 7_090_946,
  trains: 'last block, final norm and head',
  memoryBytes: 1_600_000_000,
  machineBytes: 24_000_000_000,
  fits: true,
  base: 'gpt2',
};

describe('fine-tuning summary', () => {
  it('gives a classifier’s classes before and after balancing, split, lengths, trainable share, run length and memory', () => {
    const s = planSummary(classifier, 'data/spam.tsv');
    assert.equal(s.message, 'Fine-tune a 2-class classifier from gpt2 on data/spam.tsv?');
    assert.deepEqual(s.detail.split('\n'), [
      'Classes: ham 4,825 · spam 747 (5,572 rows)',
      'After balancing: ham 747 · spam 747',
      'Split: 1,045 training · 149 validation · 300 test rows',
      'Length: padded to 120 tokens (longest 120)',
      // 7,090,946 / 124,441,346 = 5.698…%
      'Trains: last block, final norm and head — 7,090,946 of 124M parameters (5.7%)',
      'Length of the run: 5 epochs = 650 steps (130 an epoch)',
      'Memory: about 1.60 GB to train, of 24.0 GB on this machine',
    ]);
  });

  it('leaves out the balancing line when nothing was balanced, and says when texts are cut or memory is short', () => {
    const s = planSummary({ ...classifier, perClassBalanced: classifier.perClass, truncated: 3, maxLength: 64, fits: false }, 'spam.tsv');
    assert.ok(!s.detail.includes('After balancing'));
    assert.ok(s.detail.includes('Length: padded to 64 tokens (longest 120); 3 cut to it'));
    assert.ok(s.detail.endsWith('— too much'));
  });

  it('describes an instruction run with its prompt style and a LoRA share under 1%', () => {
    const s = planSummary(
      {
        task: 'instruct', rows: 1100, split: { train: 935, val: 55, test: 110 }, longest: 280, maxLength: 1024, truncated: 0,
        epochs: 2, steps: 232, stepsPerEpoch: 116, parameters: 124_439_808, trainableParameters: 1_327_104,
        trains: 'LoRA rank 8 (alpha 8) on q, k, v', memoryBytes: 2_000_000_000, machineBytes: 24_000_000_000, fits: true,
        base: 'gpt2', promptStyle: 'alpaca',
      },
      'instruction-data.json',
    );
    assert.equal(s.message, 'Fine-tune gpt2 on the instructions in instruction-data.json?');
    const lines = s.detail.split('\n');
    assert.equal(lines[0], 'Records: 1,100, prompts in the alpaca style');
    assert.equal(lines[1], 'Split: 935 training · 55 validation · 110 test records');
    assert.equal(lines[2], 'Length: longest 280 tokens, context 1,024');
    // 1,327,104 / 124,439,808 = 1.066…%
    assert.equal(lines[3], 'Trains: LoRA rank 8 (alpha 8) on q, k, v — 1,327,104 of 124M parameters (1.1%)');
  });

  it('writes parameter counts as people read them', () => {
    assert.equal(formatCount(3_320_384), '3.3M');
    assert.equal(formatCount(124_439_808), '124M');
    assert.equal(formatCount(50_306), '50.3k');
    assert.equal(formatCount(1_536), '1,536');
  });
});
