// Fine-tuning through the extension in a real extension host, on tiny data made here and the tiny preset's
// fresh weights, so each run takes seconds: Fine-tune Classifier trains in the worker with accuracy and a
// confusion matrix reported, stops and resumes like pretraining, and Classify Selection uses the result; bad
// data is refused before anything is written; Fine-tune on Instructions trains LoRA adapters that Select Model
// lists with their base.
import * as assert from 'node:assert';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { TrainingEvent, TrainOutcome } from '../../../src/extension/training';
import type { ModelInfo } from '../../../src/protocol/worker';
import { api, messagesSince, waitFor, workspaceRoot } from './helpers';

const DATA_DIR = 'ft-data';
const SPAM = ['win a free prize now', 'free cash prize claim now', 'you win free tickets', 'claim your free prize today', 'urgent free prize win'];
const HAM = ['see you at lunch', 'the meeting moved to noon', 'can you call me later', 'dinner at home tonight', 'running late see you soon'];

/** 40 rows, 20 a class, headerless label<TAB>text as the SMS Spam Collection. */
function spamTsv(): string {
  const rows: string[] = [];
  for (let i = 0; i < 20; i++) rows.push(`spam\t${SPAM[i % 5]} ${i}`, `ham\t${HAM[i % 5]} ${i}`);
  return rows.join('\n') + '\n';
}

function instructions(): string {
  const recs = Array.from({ length: 12 }, (_, i) => ({ instruction: `Repeat the number ${i}.`, input: i % 2 ? '' : `number ${i}`, output: `${i}` }));
  return JSON.stringify(recs, null, 1);
}

function collect(a: Awaited<ReturnType<typeof api>>): { events: TrainingEvent[]; dispose(): void } {
  const events: TrainingEvent[] = [];
  const sub = a.lab.training.onDidEvent((e) => events.push(e));
  return { events, dispose: () => sub.dispose() };
}

const CLASSIFY = { dataFile: `${DATA_DIR}/spam.tsv`, preset: 'tiny', contextLength: 32, trainable: 'all', epochs: 2, batchSize: 4, evalEvery: 7, checkpointEvery: 4, learningRate: 1e-3, yes: true };

describe('fine-tuning', function () {
  this.timeout(240_000);
  let root: string;

  before(async () => {
    root = workspaceRoot();
    await fsp.mkdir(join(root, DATA_DIR), { recursive: true });
    await fsp.writeFile(join(root, DATA_DIR, 'spam.tsv'), spamTsv());
    await fsp.writeFile(join(root, DATA_DIR, 'bad.tsv'), 'spam\twin now\nham\tsee you\nspam\t\nham\tlunch\n');
    await fsp.writeFile(join(root, DATA_DIR, 'instructions.json'), instructions());
  });
  after(async () => {
    await fsp.rm(join(root, DATA_DIR), { recursive: true, force: true });
  });

  it('Fine-tune Classifier trains in the worker, reports accuracy and the test confusion matrix, and Classify Selection uses it', async () => {
    const a = await api();
    const c = collect(a);
    const out = (await vscode.commands.executeCommand('llmLab.finetuneClassifier', CLASSIFY)) as TrainOutcome;
    c.dispose();
    assert.ok(out, `no outcome; messages: ${a.messages().map((m) => m.text).join(' | ')}`);
    assert.strictEqual(out.status, 'completed', out.error);
    // 40 rows split 70/10/20: 28 training rows, 7 steps of 4 an epoch, 2 epochs.
    assert.strictEqual(out.steps, 14);
    const ev = c.events.map((e) => e.event);
    const start = ev.find((e) => e.type === 'start');
    assert.ok(start?.type === 'start' && start.task === 'classify' && start.trainWindows === 28, JSON.stringify(start));
    const evals = ev.flatMap((e) => (e.type === 'eval' ? [e] : []));
    assert.deepStrictEqual(evals.map((e) => e.step), [7, 14]);
    assert.ok(evals.every((e) => e.metrics && e.metrics.valAccuracy >= 0 && e.metrics.valAccuracy <= 1), JSON.stringify(evals));
    const test = ev.find((e) => e.type === 'test');
    assert.ok(test?.type === 'test' && test.confusion, 'no test result with a confusion matrix');
    assert.deepStrictEqual([...test.confusion.labels].sort(), ['ham', 'spam']);
    // 20% of 40 rows are the test split.
    assert.strictEqual(test.confusion.counts.flat().reduce((s, x) => s + x, 0), 8);
    const job = JSON.parse(readFileSync(join(out.runDir, 'job.json'), 'utf8')) as { job: { task: string; dataFile: string } };
    assert.strictEqual(job.job.task, 'classify');
    assert.strictEqual(job.job.dataFile, join(root, DATA_DIR, 'spam.tsv'));
    assert.ok(out.checkpointDir, 'no checkpoint');
    const config = JSON.parse(readFileSync(join(out.checkpointDir, 'config.json'), 'utf8')) as { architectures: string[] };
    assert.deepStrictEqual(config.architectures, ['GPT2ForSequenceClassification']);
    assert.strictEqual(a.lab.model.dir, out.checkpointDir, 'the classifier did not become the selected model');

    const info = (await vscode.commands.executeCommand('llmLab.selectModel', { modelDir: out.checkpointDir })) as ModelInfo;
    assert.deepStrictEqual([...(info.classes ?? [])].sort(), ['ham', 'spam']);
    const r = (await vscode.commands.executeCommand('llmLab.classifySelection', { text: 'claim your free prize now' })) as { label: string; probabilities: Record<string, number>; labels: string[] };
    assert.ok(r, `no prediction; messages: ${a.messages().map((m) => m.text).join(' | ')}`);
    assert.ok(r.labels.includes(r.label));
    const total = Object.values(r.probabilities).reduce((s, p) => s + p, 0);
    assert.ok(Math.abs(total - 1) < 1e-5, `probabilities sum to ${total}`);
    assert.strictEqual(r.label, Object.entries(r.probabilities).sort((x, y) => y[1] - x[1])[0][0], 'the label is not the most probable class');
    assert.ok(a.messages().some((m) => m.text.includes(`“${r.label}”`)), 'the prediction was not shown');
  });

  it('a fine-tuning run stops with a checkpoint and Resume Training continues it to the end', async () => {
    const a = await api();
    let stopping: Promise<TrainOutcome | undefined> | undefined;
    const sub = a.lab.training.onDidEvent((e) => {
      if (e.event.type === 'checkpoint' && !stopping) stopping = a.lab.trainer.stop();
    });
    const first = (await vscode.commands.executeCommand('llmLab.finetuneClassifier', CLASSIFY)) as TrainOutcome;
    sub.dispose();
    assert.strictEqual(first.status, 'cancelled', first.error);
    assert.ok(first.steps >= 4 && first.steps < 14, `stopped at step ${first.steps}`);
    assert.ok(first.checkpointDir, 'no checkpoint kept');
    const again = (await vscode.commands.executeCommand('llmLab.resumeTraining', { runDir: first.runDir })) as TrainOutcome;
    assert.strictEqual(again.status, 'completed', again.error);
    assert.strictEqual(again.steps, 14);
    assert.strictEqual(again.firstStep, first.steps + 1, 'the resumed run did not continue from its checkpoint');
  });

  it('refuses bad data before anything is written, naming the file', async () => {
    const a = await api();
    const runs = join(root, '.llm-lab', 'runs');
    const before = existsSync(runs) ? readdirSync(runs).sort() : [];
    const since = Date.now();
    const out = await vscode.commands.executeCommand('llmLab.finetuneClassifier', { ...CLASSIFY, dataFile: `${DATA_DIR}/bad.tsv` });
    assert.strictEqual(out, undefined);
    const shown = messagesSince(a, since).filter((m) => m.startsWith('error'));
    assert.ok(shown.some((m) => /bad\.tsv/.test(m) && /3/.test(m)), JSON.stringify(shown));
    assert.deepStrictEqual(existsSync(runs) ? readdirSync(runs).sort() : [], before, 'a run folder was made for bad data');
  });

  it('Fine-tune on Instructions trains LoRA adapters, and the adapter describes itself with its base and prompt style', async () => {
    const a = await api();
    const args = { dataFile: `${DATA_DIR}/instructions.json`, preset: 'tiny', promptStyle: 'alpaca', maskPrompt: true, lora: { rank: 2, alpha: 4, targets: ['q', 'v'] }, epochs: 1, batchSize: 2, maxResponseTokens: 8, yes: true };
    const c = collect(a);
    const out = (await vscode.commands.executeCommand('llmLab.finetuneInstruct', args)) as TrainOutcome;
    c.dispose();
    assert.ok(out, `no outcome; messages: ${a.messages().map((m) => m.text).join(' | ')}`);
    assert.strictEqual(out.status, 'completed', out.error);
    const start = c.events.map((e) => e.event).find((e) => e.type === 'start');
    assert.ok(start?.type === 'start' && start.task === 'instruct');
    assert.ok(start.trainableParameters !== undefined && start.trainableParameters < start.parameters / 10, `LoRA trained ${start?.trainableParameters} of ${start?.parameters}`);
    assert.ok(out.checkpointDir && existsSync(join(out.checkpointDir, 'adapter.json')), 'no adapter was saved');
    const info = await waitFor('model info', () => a.lab.worker.request('model/info', { modelDir: out.checkpointDir! }));
    assert.ok(info.adapter, 'the run is not an adapter');
    assert.strictEqual(info.promptStyle, 'alpaca');
    const job = JSON.parse(readFileSync(join(out.runDir, 'job.json'), 'utf8')) as { job: { task: string; lora: { rank: number } } };
    assert.strictEqual(job.job.task, 'instruct');
    assert.strictEqual(job.job.lora.rank, 2);
  });
});
