// Classification fine-tuning through the shared training loop: a tiny classifier learns a separable toy task to
// 100% test accuracy, frozen parameters keep their exact bytes, a run cancelled and resumed ends bit for bit where
// an uninterrupted one does, and bad data is refused before a run folder is touched.
import * as assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { finetuneClassifier, planClassifier } from '../../../../src/core/classify/finetune';
import type { ClassifyOptions } from '../../../../src/core/classify/options';
import { readSafetensors } from '../../../../src/core/checkpoint/safetensors';
import { saveModel } from '../../../../src/core/checkpoint/modelFiles';
import { initEngine } from '../../../../src/core/engine';
import { makeConfig } from '../../../../src/core/model/config';
import { GptModel } from '../../../../src/core/model/gpt';
import type { TrainEvent } from '../../../../src/core/train/events';
import { toyTsv } from './toyData';

const SHAPE = { contextLength: 16, embDim: 16, nHeads: 2, nLayers: 2 };

describe('classification fine-tuning', function () {
  this.timeout(300_000);
  let root: string;
  let data: string;
  before(async () => {
    await initEngine('cpu');
  });
  beforeEach(async () => {
    root = await fsp.mkdtemp(path.join(os.tmpdir(), 'llmlab-finetune-'));
    data = path.join(root, 'toy.tsv');
    await fsp.writeFile(data, toyTsv(30));
  });
  afterEach(async () => {
    await fsp.rm(root, { recursive: true, force: true });
  });

  const base = (extra: Partial<ClassifyOptions> = {}): ClassifyOptions => ({
    outDir: path.join(root, 'run'), dataFile: data, preset: 'tiny', model: { ...SHAPE, dropRate: 0 }, trainable: 'all',
    lr: 1e-2, epochs: 6, batchSize: 6, evalEvery: 0, checkpointEvery: 0, seed: 5, ...extra,
  });

  it('learns a separable toy task to 100% test accuracy, with accuracy at each evaluation and a confusion matrix', async () => {
    const events: TrainEvent[] = [];
    const r = await finetuneClassifier(base({ evalEvery: 10 }), { onEvent: (e) => events.push(e) });
    assert.equal(r.status, 'completed');
    assert.deepEqual(r.labels, ['fruit', 'tool']);
    // 60 rows → 42 / 6 / 12; 42 / 6 = 7 steps an epoch, 6 epochs.
    assert.equal(r.totalSteps, 42);
    const start = events.find((e) => e.type === 'start')!;
    assert.ok(start.type === 'start' && start.task === 'classify' && start.trainWindows === 42 && start.stepsPerEpoch === 7);
    const evals = events.filter((e) => e.type === 'eval');
    assert.deepEqual(evals.map((e) => e.step), [10, 20, 30, 40, 42]);
    for (const e of evals) {
      assert.ok(e.type === 'eval' && e.metrics && ['valAccuracy', 'trainLoss', 'trainAccuracy'].every((k) => typeof e.metrics![k] === 'number'));
    }
    const test = events.find((e) => e.type === 'test');
    assert.ok(test && test.type === 'test');
    assert.equal(test.metrics.accuracy, 1);
    assert.equal(r.test!.accuracy, 1);
    const counts = test.confusion!.counts;
    assert.deepEqual(test.confusion!.labels, ['fruit', 'tool']);
    assert.equal(counts[0][1] + counts[1][0], 0);
    assert.equal(counts[0][0] + counts[1][1], 12);
    assert.equal(events[events.length - 1].type, 'done');
  });

  it('keeps frozen parameters bit for bit (last-block from a saved model) and changes the trained ones', async () => {
    const baseDir = path.join(root, 'base');
    const body = GptModel.create(makeConfig('tiny', { ...SHAPE, dropRate: 0 }), 3);
    await saveModel(baseDir, body);
    body.dispose();
    const before = (await readSafetensors(path.join(baseDir, 'model.safetensors'))).tensors;
    const r = await finetuneClassifier(base({ preset: undefined, model: undefined, modelDir: baseDir, trainable: 'last-block', epochs: 1 }));
    const after = (await readSafetensors(path.join(r.checkpointDir!, 'model.safetensors'))).tensors;
    let frozen = 0;
    let trained = 0;
    for (const [name, t] of before) {
      const now = after.get(`transformer.${name}`)!;
      assert.ok(now, name);
      const same = Buffer.from(now.data.buffer, now.data.byteOffset, now.data.byteLength).equals(Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength));
      if (name.startsWith('h.1.') || name.startsWith('ln_f.')) {
        if (!name.endsWith('.bias') && !name.startsWith('ln_')) assert.ok(!same, `${name} trains`);
        trained++;
      } else {
        assert.ok(same, `${name} is frozen and must keep its bytes`);
        frozen++;
      }
    }
    assert.ok(frozen >= 14 && trained >= 14, `${frozen} frozen, ${trained} trained`);
    assert.ok(after.has('score.weight'));
  });

  it('takes the body of a model with a separate output head, leaving the head out of the classifier', async () => {
    const baseDir = path.join(root, 'untied');
    const body = GptModel.create(makeConfig('tiny', { ...SHAPE, dropRate: 0, tiedHead: false }), 4);
    await saveModel(baseDir, body);
    body.dispose();
    const r = await finetuneClassifier(base({ preset: undefined, model: undefined, modelDir: baseDir, trainable: 'head', epochs: 1 }));
    const after = (await readSafetensors(path.join(r.checkpointDir!, 'model.safetensors'))).tensors;
    assert.ok(![...after.keys()].some((n) => n.includes('lm_head')), [...after.keys()].join(', '));
    const before = (await readSafetensors(path.join(baseDir, 'model.safetensors'))).tensors;
    assert.deepEqual(after.get('transformer.wte.weight')!.data, before.get('transformer.wte.weight')!.data);
    const config = JSON.parse(await fsp.readFile(path.join(r.checkpointDir!, 'config.json'), 'utf8'));
    assert.equal(config.tie_word_embeddings, true);
  });

  it('resumes a cancelled run bit for bit: the same losses and the same final weights (dropout on)', async () => {
    const opts = { model: { ...SHAPE, dropRate: 0.1 }, trainable: 'last-2' as const, epochs: 2, evalEvery: 5 };
    const whole = await finetuneClassifier(base({ ...opts, outDir: path.join(root, 'whole') }));
    const ctl = new AbortController();
    const first = await finetuneClassifier(base({ ...opts, outDir: path.join(root, 'parts') }), {
      signal: ctl.signal,
      onEvent: (e) => {
        if (e.type === 'step' && e.step === 6) ctl.abort();
      },
    });
    assert.equal(first.status, 'cancelled');
    assert.equal(first.step, 6);
    const events: TrainEvent[] = [];
    const rest = await finetuneClassifier(base({ outDir: path.join(root, 'parts'), resume: true, preset: undefined, trainable: undefined, model: undefined, epochs: undefined }), { onEvent: (e) => events.push(e) });
    assert.equal(rest.status, 'completed');
    assert.equal(rest.step, whole.step);
    const losses = async (dir: string): Promise<Map<number, number>> => {
      const m = new Map<number, number>();
      for (const line of (await fsp.readFile(path.join(dir, 'metrics.jsonl'), 'utf8')).trim().split('\n')) {
        const e = JSON.parse(line);
        if (e.type === 'step') m.set(e.step, e.loss);
      }
      return m;
    };
    assert.deepEqual(await losses(path.join(root, 'parts')), await losses(path.join(root, 'whole')));
    const a = await fsp.readFile(path.join(whole.checkpointDir!, 'model.safetensors'));
    const b = await fsp.readFile(path.join(rest.checkpointDir!, 'model.safetensors'));
    assert.ok(a.equals(b), 'the resumed run ends with the bytes of the uninterrupted one');
    assert.deepEqual(rest.test, whole.test);
  });

  it('stops cleanly with a checkpoint when cancelled as an evaluation starts', async () => {
    const ctl = new AbortController();
    const r = await finetuneClassifier(base({ evalEvery: 5, evalBatches: 0, batchSize: 2 }), {
      signal: ctl.signal,
      onEvent: (e) => {
        if (e.type === 'step' && e.step === 5) ctl.abort(); // the evaluation of step 5 runs next
      },
    });
    assert.equal(r.status, 'cancelled');
    assert.equal(r.step, 5);
    assert.ok(r.checkpointDir?.endsWith('step-000005'));
    assert.equal(r.test, undefined);
  });

  it('refuses a resume with other run-defining settings, naming them', async () => {
    await finetuneClassifier(base({ epochs: 2 }));
    await assert.rejects(finetuneClassifier(base({ resume: true, epochs: 3, balance: true })), /Cannot resume .* different settings: balance \(run: false, now: true\)/);
    await assert.rejects(finetuneClassifier(base({ epochs: 2 })), /already holds a training run/);
    await assert.rejects(
      finetuneClassifier(base({ resume: true, epochs: 1, preset: undefined, model: undefined, trainable: undefined })),
      /already at step 14 \(2\.00 epochs of 7 steps\), past the 1 epoch\(s\) asked for; give more epochs/,
    );
  });

  it('refuses bad data, with the file and line, before the run folder is made', async () => {
    await fsp.writeFile(data, toyTsv(10) + 'tool\t\n');
    const out = path.join(root, 'never');
    await assert.rejects(finetuneClassifier(base({ outDir: out })), new RegExp(`${data.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:21: the text is empty`));
    await assert.rejects(fsp.stat(out), /ENOENT/);
  });

  it('plans a run: classes before and after balancing, split, length, parameters and memory', async () => {
    await fsp.writeFile(data, toyTsv(30) + 'tool\thammer saw\ntool\tdrill\n');
    const p = await planClassifier(base({ balance: true, trainable: 'head' }));
    assert.deepEqual(p.perClass, { fruit: 30, tool: 32 });
    assert.deepEqual(p.perClassBalanced, { fruit: 30, tool: 30 });
    assert.deepEqual(p.split, { train: 42, val: 6, test: 12 });
    assert.equal(p.steps, 6 * 7);
    assert.equal(p.trainableParameters, 2 * 16);
    // wte + wpe + 2 blocks + ln_f + head for width 16, vocabulary 50,257, context 16.
    const C = 16;
    const block = 2 * C + C * 3 * C + 3 * C + C * C + C + 2 * C + C * 4 * C + 4 * C + 4 * C * C + C;
    assert.equal(p.parameters, 50257 * C + 16 * C + 2 * block + 2 * C + 2 * C);
    assert.ok(p.maxLength >= 2 && p.maxLength <= 16 && p.longest === p.maxLength);
    assert.ok(p.memory.trainingBytes > p.memory.weightsBytes);
  });
});
