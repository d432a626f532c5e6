// A model pretrained with fill-in-the-middle keeps its three sentinel tokens in the vocabulary through every way
// LLM Lab makes a model from it: instruction fine-tuning (whole model, LoRA adapters, and the adapters merged)
// and a classifier on its body. Each result's config.json records the base's llm_lab.fim, so completions from it
// still give the model the text after the cursor, and its tokenizer still knows the sentinels.
import * as assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { findCheckpoint, saveModel } from '../../../src/core/checkpoint';
import { inheritedFim, modelTokenizer } from '../../../src/core/checkpoint/modelTokenizer';
import { finetuneClassifier } from '../../../src/core/classify/finetune';
import { initEngine } from '../../../src/core/engine';
import type { InstructionRecord } from '../../../src/core/instruct';
import { finetuneInstruct } from '../../../src/core/instruct';
import { loadAnyModel } from '../../../src/core/lora';
import { makeConfig } from '../../../src/core/model/config';
import { GptModel } from '../../../src/core/model/gpt';
import { fimOf } from '../../../src/worker/completeJob';
import { mergeLoraJob } from '../../../src/worker/modelJobs';

// GPT-2's 50,257 ids, then the sentinels in an order unlike the one pretraining picks, so a writer that made up
// its own ids instead of carrying the base's would be caught.
const FIM = { prefix: 50259, middle: 50257, suffix: 50258 };
const config = makeConfig('tiny', { vocabSize: 50260, contextLength: 32, embDim: 16, nHeads: 2, nLayers: 1, dropRate: 0 });

const RECORDS: InstructionRecord[] = Array.from({ length: 6 }, (_, i) => ({ instruction: `Say ${i}.`, input: '', output: `${i}.` }));

async function configOf(dir: string): Promise<{ llm_lab: Record<string, unknown>; vocab_size: number }> {
  const found = (await findCheckpoint(dir)) ?? dir;
  return JSON.parse(await fsp.readFile(path.join(found, 'config.json'), 'utf8'));
}

describe('fill-in-the-middle carried into models made from a FIM base', function () {
  this.timeout(300_000);
  let tmp: string;
  let baseDir: string;

  before(async () => {
    await initEngine('cpu');
    tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'llmlab-fim-inherited-'));
    baseDir = path.join(tmp, 'base');
    const model = GptModel.create(config, 7);
    try {
      await saveModel(baseDir, model, { tokenizer: 'gpt2', fim: FIM });
    } finally {
      model.dispose();
    }
  });
  after(async () => {
    await fsp.rm(tmp, { recursive: true, force: true });
  });

  it('inheritedFim copies a base’s sentinels and nothing else', () => {
    assert.deepEqual(inheritedFim({ tokenizer: 'gpt2', fim: FIM, step: 3 }), { fim: FIM });
    assert.deepEqual(inheritedFim({ tokenizer: 'gpt2' }), {});
    assert.deepEqual(inheritedFim(undefined), {});
    // Not three distinct ids: not a record worth carrying (loading such a base is refused on its own).
    assert.deepEqual(inheritedFim({ fim: { prefix: 1, middle: 1, suffix: 2 } }), {});
  });

  it('instruction fine-tuning of the whole model keeps llm_lab.fim, and completions see the text after the cursor', async () => {
    const out = path.join(tmp, 'instruct-full');
    const r = await finetuneInstruct({ outDir: out, modelDir: baseDir, records: RECORDS, valFraction: 0, testFraction: 0, batchSize: 3, epochs: 1, evalEvery: 0, checkpointEvery: 0 });
    assert.equal(r.status, 'completed');
    const c = await configOf(out);
    assert.deepEqual(c.llm_lab.fim, FIM);
    assert.equal(c.llm_lab.promptStyle, 'alpaca');
    const loaded = await loadAnyModel(out);
    try {
      assert.deepEqual(fimOf(loaded.meta), FIM, 'the completion job would not use the text after the cursor');
      const tok = modelTokenizer(loaded);
      assert.deepEqual([tok.vocabSize, tok.decode([FIM.prefix]), tok.decode([FIM.middle]), tok.decode([FIM.suffix])], [50260, '<|fim_prefix|>', '<|fim_middle|>', '<|fim_suffix|>']);
    } finally {
      loaded.model.dispose();
    }
  });

  it('LoRA instruction fine-tuning keeps it on the adapters and on the model merged from them', async () => {
    const out = path.join(tmp, 'instruct-lora');
    const r = await finetuneInstruct({ outDir: out, modelDir: baseDir, records: RECORDS, valFraction: 0, testFraction: 0, batchSize: 3, epochs: 1, evalEvery: 0, checkpointEvery: 0, lora: { rank: 2 } });
    assert.equal(r.status, 'completed');
    // The step checkpoint is an adapter folder: adapter.json records the base's sentinels beside its tokenizer.
    assert.deepEqual(JSON.parse(await fsp.readFile(path.join((await findCheckpoint(out))!, 'adapter.json'), 'utf8')).fim, FIM);
    const adapted = await loadAnyModel(out);
    try {
      assert.ok(adapted.adapter, 'the run did not save adapters');
      assert.deepEqual(fimOf(adapted.meta), FIM);
    } finally {
      adapted.model.dispose();
    }
    const merged = path.join(tmp, 'instruct-lora-merged');
    await mergeLoraJob({ adapterDir: out, outDir: merged });
    const c = await configOf(merged);
    assert.deepEqual(c.llm_lab.fim, FIM);
    assert.equal(c.vocab_size, 50260);
    assert.equal(c.llm_lab.promptStyle, 'alpaca');
  });

  it('a classifier fine-tuned on the body keeps it', async () => {
    const data = path.join(tmp, 'toy.tsv');
    await fsp.writeFile(data, Array.from({ length: 12 }, (_, i) => (i % 2 ? `tool\thammer saw ${i}` : `fruit\tapple pear ${i}`)).join('\n') + '\n');
    const out = path.join(tmp, 'classify');
    const r = await finetuneClassifier({ outDir: out, dataFile: data, modelDir: baseDir, trainable: 'head', epochs: 1, batchSize: 4, evalEvery: 0, checkpointEvery: 0, seed: 1 });
    assert.equal(r.status, 'completed');
    const c = await configOf(out);
    assert.deepEqual(c.llm_lab.fim, FIM);
    assert.deepEqual((c as unknown as { id2label: Record<string, string> }).id2label, { 0: 'fruit', 1: 'tool' });
  });
});
