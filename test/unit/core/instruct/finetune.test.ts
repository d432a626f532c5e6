// Instruction fine-tuning end to end on a tiny GPT: it learns a handful of records well enough to answer each
// with its output greedily; a run cancelled and resumed gives bit for bit the losses, weights and test responses
// of an uninterrupted one; with LoRA only the adapters train, the checkpoints are adapter folders over the
// untouched base, and a LoRA run resumes exactly too.
import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { listCheckpoints, loadModel, readSafetensors, saveModel } from '../../../../src/core/checkpoint';
import { initEngine, tf } from '../../../../src/core/engine';
import type { InstructFinetuneOptions, InstructionRecord } from '../../../../src/core/instruct';
import { finetuneInstruct, formatExample, planInstructFinetune, respond, TEST_RESPONSES_FILE } from '../../../../src/core/instruct';
import { loadAnyModel, loraParameterCount, loraSites, readAdapterMeta } from '../../../../src/core/lora';
import { makeConfig } from '../../../../src/core/model/config';
import { GptModel } from '../../../../src/core/model/gpt';
import type { Tokenizer } from '../../../../src/core/tokenizer';
import { trainBpe } from '../../../../src/core/tokenizer/train';
import { loadTokenizerSync, writeTokenizerFiles } from '../../../../src/core/tokenizer/files';
import type { TrainEvent } from '../../../../src/core/train/events';
import { lockRunFolder } from '../../../../src/core/train/runLock';

// A small vocabulary (a byte-level BPE trained on the records) keeps these runs quick on the plain-JavaScript backend.
const VOCAB = 320;
const config = makeConfig('tiny', { vocabSize: VOCAB, contextLength: 64, embDim: 32, nHeads: 2, nLayers: 1, dropRate: 0 });
let tok: Tokenizer;

const FEW: InstructionRecord[] = [
  { instruction: 'Name a colour.', input: '', output: 'Blue.' },
  { instruction: 'Add one.', input: '41', output: 'It is 42.' },
  { instruction: 'Say hello.', input: '', output: 'Hello there, friend!' },
];

/** Twelve short records: 8 train, 2 test, 2 validation at the 0.1/0.2 split the tests use (floor(12·0.7), floor(12·0.2), the rest). */
const TWELVE: InstructionRecord[] = Array.from({ length: 12 }, (_, i) => ({
  instruction: `Repeat the number ${i}.`,
  input: i % 3 === 0 ? `${i * 7}` : '',
  output: `The number is ${i}.`,
}));

const sha = async (file: string): Promise<string> => createHash('sha256').update(await fsp.readFile(file)).digest('hex');
const losses = (events: TrainEvent[]): number[] => events.flatMap((e) => (e.type === 'step' ? [e.loss] : []));

/** Runs, and when `stopAt` is given cancels after that step and resumes to the end; returns every step's loss. */
async function runMaybeSplit(o: InstructFinetuneOptions, stopAt?: number): Promise<{ losses: number[]; events: TrainEvent[] }> {
  const events: TrainEvent[] = [];
  const stop = new AbortController();
  const first = await finetuneInstruct(o, {
    signal: stop.signal,
    onEvent: (e) => {
      events.push(e);
      if (stopAt !== undefined && e.type === 'step' && e.step === stopAt) stop.abort();
    },
  });
  if (stopAt === undefined) {
    assert.equal(first.status, 'completed');
    return { losses: losses(events), events };
  }
  assert.equal(first.status, 'cancelled');
  assert.equal(first.step, stopAt);
  const rest: TrainEvent[] = [];
  const second = await finetuneInstruct({ ...o, modelDir: undefined, resume: true }, { onEvent: (e) => rest.push(e) });
  assert.equal(second.status, 'completed');
  const start = rest.find((e) => e.type === 'start');
  assert.ok(start && start.type === 'start' && start.resumed && start.step === stopAt);
  return { losses: [...losses(events), ...losses(rest)], events: [...events, ...rest] };
}

async function sameTensors(fileA: string, fileB: string): Promise<void> {
  const [a, b] = await Promise.all([readSafetensors(fileA), readSafetensors(fileB)]);
  assert.deepEqual([...a.tensors.keys()].sort(), [...b.tensors.keys()].sort());
  for (const [name, t] of a.tensors) assert.ok(Buffer.from(t.data.buffer).equals(Buffer.from(b.tensors.get(name)!.data.buffer)), `${path.basename(fileA)}: ${name} differs`);
}

describe('instruction fine-tuning (finetuneInstruct)', function () {
  this.timeout(600_000);
  let tmp: string;
  let baseDir: string;

  before(async () => {
    await initEngine('cpu');
    tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'llm-lab-instruct-'));
    baseDir = path.join(tmp, 'base');
    const texts = [...FEW, ...TWELVE].flatMap((r) => [formatExample('alpaca', r), formatExample('phi3', r)]);
    const bpe = (await trainBpe(texts, { vocabSize: VOCAB, name: 'records' })).model;
    const base = GptModel.create(config, 21);
    await saveModel(baseDir, base, { tokenizer: 'trained' });
    await writeTokenizerFiles(baseDir, bpe);
    base.dispose();
    tok = loadTokenizerSync(baseDir);
  });
  after(async () => {
    await fsp.rm(tmp, { recursive: true, force: true });
  });

  it('plans the run before it starts: split, longest example, steps and trainable values', async () => {
    const plan = await planInstructFinetune({ outDir: path.join(tmp, 'plan'), modelDir: baseDir, records: TWELVE, valFraction: 0.1, testFraction: 0.2, batchSize: 2, epochs: 3, lora: { rank: 2 } });
    assert.deepEqual(plan.split, { train: 8, val: 2, test: 2 }); // floor(12·0.7) train, floor(12·0.2) test, the rest validates
    const longest = Math.max(...TWELVE.slice(0, 8).map((r) => tok.encode(`Below is an instruction that describes a task. Write a response that appropriately completes the request.\n\n### Instruction:\n${r.instruction}${r.input ? `\n\n### Input:\n${r.input}` : ''}\n\n### Response:\n${r.output}`).length + 1));
    assert.equal(plan.maxTokens, longest);
    assert.equal(plan.stepsPerEpoch, 4);
    assert.equal(plan.totalSteps, 12);
    assert.equal(plan.trainableParameters, loraParameterCount(loraSites(config, ['q', 'k', 'v', 'attn-out', 'mlp-in', 'mlp-out', 'head']), 2));
    assert.equal(plan.lora?.alpha, 2, 'alpha defaults to the rank');
    await assert.rejects(fsp.stat(path.join(tmp, 'plan')), 'planning writes nothing');
  });

  it('teaches a tiny model a handful of records: it answers each with its output, greedily', async () => {
    const out = path.join(tmp, 'few');
    const r = await finetuneInstruct({
      outDir: out, modelDir: baseDir, records: FEW, promptStyle: 'phi3', valFraction: 0, testFraction: 0, batchSize: 3, epochs: 120, lr: 1e-2, evalEvery: 0, checkpointEvery: 0,
    });
    assert.equal(r.status, 'completed');
    assert.equal(r.step, 120);
    const loaded = await loadAnyModel(out);
    try {
      assert.equal(loaded.meta.promptStyle, 'phi3', 'the prompt style is saved with the model');
      for (const rec of FEW) assert.equal(await respond(loaded.model, tok, 'phi3', rec, { maxNewTokens: 40 }), rec.output);
    } finally {
      loaded.model.dispose();
    }
  });

  it('resumes a cancelled run bit for bit and writes the test split’s responses', async () => {
    const o = (dir: string): InstructFinetuneOptions => ({
      outDir: path.join(tmp, dir), modelDir: baseDir, records: TWELVE, valFraction: 0.1, testFraction: 0.2, batchSize: 4, gradAccumSteps: 2, epochs: 3,
      lr: 3e-3, dropout: 0.1, evalEvery: 2, evalBatches: 1, checkpointEvery: 0, maxResponseTokens: 6,
    });
    const whole = await runMaybeSplit(o('whole'));
    const split = await runMaybeSplit(o('split'), 2);
    assert.equal(whole.losses.length, 6);
    assert.deepEqual(split.losses, whole.losses);
    const [a, b] = [(await listCheckpoints(path.join(tmp, 'whole', 'checkpoints'))).pop()!, (await listCheckpoints(path.join(tmp, 'split', 'checkpoints'))).pop()!];
    for (const f of ['model.safetensors', 'training_state.safetensors']) await sameTensors(path.join(a.dir, f), path.join(b.dir, f));
    const evals = whole.events.filter((e) => e.type === 'eval');
    assert.deepEqual(evals.map((e) => e.step), [2, 4, 6]);
    assert.ok(evals.every((e) => e.type === 'eval' && Number.isFinite(e.valLoss) && Number.isFinite(e.metrics?.trainLoss ?? NaN)));

    const file = path.join(tmp, 'whole', TEST_RESPONSES_FILE);
    const rows = JSON.parse(await fsp.readFile(file, 'utf8')) as Array<InstructionRecord & { model_response: string }>;
    assert.deepEqual(rows.map(({ instruction, input, output }) => ({ instruction, input, output })), TWELVE.slice(8, 10), 'the test split, in order');
    const model = (await loadModel(path.join(tmp, 'whole'))).model;
    try {
      for (const row of rows) assert.equal(row.model_response, await respond(model, tok, 'alpaca', row, { maxNewTokens: 6 }));
    } finally {
      model.dispose();
    }
    assert.equal(await fsp.readFile(path.join(tmp, 'split', TEST_RESPONSES_FILE), 'utf8'), await fsp.readFile(file, 'utf8'));
  });

  it('with LoRA trains only the adapters: the base stays as it was, checkpoints are adapter folders, and it resumes bit for bit', async () => {
    const baseHash = await sha(path.join(baseDir, 'model.safetensors'));
    const lora = { rank: 2, alpha: 4, targets: ['q', 'v', 'mlp-in', 'head'] as const };
    const o = (dir: string): InstructFinetuneOptions => ({
      outDir: path.join(tmp, dir), modelDir: baseDir, records: TWELVE, valFraction: 0.2, testFraction: 0, batchSize: 4, epochs: 2, lr: 1e-2, evalEvery: 0,
      checkpointEvery: 0, lora: { ...lora, targets: [...lora.targets] },
    });
    const whole = await runMaybeSplit(o('lora-whole'));
    const split = await runMaybeSplit(o('lora-split'), 1);
    assert.deepEqual(split.losses, whole.losses);
    const start = whole.events.find((e) => e.type === 'start');
    const expected = loraParameterCount(loraSites(config, [...lora.targets]), 2);
    assert.ok(start && start.type === 'start' && start.trainableParameters === expected);

    const [a, b] = [(await listCheckpoints(path.join(tmp, 'lora-whole', 'checkpoints'))).pop()!, (await listCheckpoints(path.join(tmp, 'lora-split', 'checkpoints'))).pop()!];
    for (const f of ['adapter.safetensors', 'training_state.safetensors']) await sameTensors(path.join(a.dir, f), path.join(b.dir, f));
    await assert.rejects(fsp.stat(path.join(a.dir, 'model.safetensors')), 'a LoRA checkpoint holds no copy of the base');
    const state = await readSafetensors(path.join(a.dir, 'training_state.safetensors'));
    assert.ok([...state.tensors.keys()].every((n) => /\.lora_[AB]$/.test(n)), 'AdamW state exists for the adapters only');
    assert.equal(await sha(path.join(baseDir, 'model.safetensors')), baseHash, 'the base file is untouched');

    const meta = await readAdapterMeta(a.dir);
    assert.equal(meta.base.model, baseDir);
    assert.equal(meta.promptStyle, 'alpaca');
    const adapted = await loadAnyModel(path.join(tmp, 'lora-whole'));
    const plain = (await loadModel(baseDir)).model;
    try {
      assert.equal(adapted.adapter?.rank, 2);
      // The frozen base inside the adapted model is bit for bit the base file; the adapters changed its outputs.
      for (const [name, v] of plain.params) assert.ok(Buffer.from((v.dataSync() as Float32Array).buffer).equals(Buffer.from((adapted.model.params.get(name)!.dataSync() as Float32Array).buffer)), name);
      const x = tf.tensor2d([tok.encode('Repeat the number 3.')], undefined, 'int32');
      const d = tf.tidy(() => tf.max(tf.abs(tf.sub(adapted.model.forward(x).logits, plain.forward(x).logits))).dataSync()[0]);
      x.dispose();
      assert.ok(d > 1e-3, `the adapters trained (largest logit change ${d})`);
    } finally {
      adapted.model.dispose();
      plain.dispose();
    }
  });

  it('writes nothing into a run folder another run holds, LoRA base included', async () => {
    const out = path.join(tmp, 'held');
    const other = await lockRunFolder(out); // stands for another run training there
    try {
      await assert.rejects(
        finetuneInstruct({ outDir: out, preset: 'tiny', records: TWELVE, valFraction: 0.1, testFraction: 0.2, batchSize: 4, epochs: 1, lora: { rank: 2 } }),
        /already training in/,
      );
      assert.deepEqual(await fsp.readdir(out), ['run.lock']);
    } finally {
      await other.release();
    }
  });

  it('refuses a resume with another prompt style, and a folder that already holds a run', async () => {
    const o: InstructFinetuneOptions = { outDir: path.join(tmp, 'whole'), modelDir: baseDir, records: TWELVE, valFraction: 0.1, testFraction: 0.2, batchSize: 4, epochs: 3 };
    await assert.rejects(finetuneInstruct(o), /already holds a training run/);
    await assert.rejects(finetuneInstruct({ ...o, resume: true, promptStyle: 'phi3' }), /promptStyle \(run: "alpaca", now: "phi3"\)/);
  });
});
