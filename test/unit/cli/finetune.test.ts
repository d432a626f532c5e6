// `llm-lab finetune instruct`: the summary before training, JSON events and result, LoRA runs whose folder ask and
// lora merge take as a model, and one-line refusals for missing or wrong flags.
import * as assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCli } from '../../../src/cli/app';
import { captureIo } from '../../../src/cli/io';
import { loadModel, saveModel } from '../../../src/core/checkpoint';
import { initEngine, tf } from '../../../src/core/engine';
import { formatExample } from '../../../src/core/instruct';
import { loadAnyModel } from '../../../src/core/lora';
import { makeConfig } from '../../../src/core/model/config';
import { GptModel } from '../../../src/core/model/gpt';
import { writeTokenizerFiles } from '../../../src/core/tokenizer/files';
import { trainBpe } from '../../../src/core/tokenizer/train';

async function cli(args: string[]) {
  const io = captureIo();
  const code = await runCli(args, io);
  return { code, out: io.out(), err: io.err() };
}

const RECORDS = Array.from({ length: 10 }, (_, i) => ({ instruction: `Count to ${i}.`, input: '', output: `${Array.from({ length: i + 1 }, (_, j) => j).join(' ')}.` }));

describe('llm-lab finetune instruct', function () {
  this.timeout(600_000);
  let tmp: string;
  let base: string;
  let data: string;

  before(async () => {
    await initEngine('cpu');
    tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'llm-lab-finetune-cli-'));
    base = path.join(tmp, 'base');
    data = path.join(tmp, 'data.jsonl');
    await fsp.writeFile(data, RECORDS.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const bpe = (await trainBpe(RECORDS.map((r) => formatExample('alpaca', r)), { vocabSize: 300 })).model;
    const m = GptModel.create(makeConfig('tiny', { vocabSize: 300, contextLength: 80, embDim: 16, nHeads: 2, nLayers: 1 }), 3);
    await saveModel(base, m, { tokenizer: 'trained' });
    await writeTokenizerFiles(base, bpe);
    m.dispose();
  });
  after(async () => {
    await fsp.rm(tmp, { recursive: true, force: true });
  });

  it('trains LoRA adapters with a summary first, JSON events, and a run folder that ask and lora merge take', async () => {
    const out = path.join(tmp, 'lora');
    const r = await cli(['finetune', 'instruct', '--model', base, '--data', data, '--out', out, '--batch', '4', '--epochs', '2', '--lr', '1e-2',
      '--lora-rank', '2', '--lora-alpha', '4', '--eval-every', '1', '--max-response-tokens', '4', '--json']);
    assert.equal(r.code, 0, r.err);
    const lines = r.out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const plan = lines[0];
    assert.equal(plan.type, 'plan');
    assert.deepEqual(plan.split, { train: 8, val: 1, test: 1 });
    assert.equal(plan.totalSteps, 4);
    const start = lines.find((l) => l.type === 'start')!;
    assert.equal(start.trainableParameters, plan.trainableParameters, 'the summary counts what trains');
    assert.ok((plan.trainableParameters as number) < (plan.parameters as number) / 2);
    assert.deepEqual(lines.filter((l) => l.type === 'step').map((l) => l.step), [1, 2, 3, 4]);
    const result = lines[lines.length - 1];
    assert.equal(result.type, 'result');
    assert.equal(result.status, 'completed');
    const responses = JSON.parse(await fsp.readFile(result.responsesFile as string, 'utf8')) as Array<Record<string, string>>;
    assert.equal(responses.length, 1);
    assert.equal(responses[0].instruction, RECORDS[8].instruction);
    assert.equal(typeof responses[0].model_response, 'string');

    const asked = await cli(['ask', '--model', out, '--instruction', RECORDS[0].instruction, '--max-new-tokens', '3', '--json']);
    assert.equal(asked.code, 0, asked.err);
    assert.equal(JSON.parse(asked.out).promptStyle, 'alpaca');

    const merged = path.join(tmp, 'merged');
    const m = await cli(['lora', 'merge', '--model', out, '--out', merged]);
    assert.equal(m.code, 0, m.err);
    const [adapted, plain] = [await loadAnyModel(out), await loadModel(merged)];
    try {
      const x = tf.tensor2d([[5, 9, 44, 2]], [1, 4], 'int32');
      const d = tf.tidy(() => tf.max(tf.abs(tf.sub(adapted.model.forward(x).logits, plain.model.forward(x).logits))).dataSync()[0]);
      x.dispose();
      assert.ok(d < 1e-4, `the merged model gives the adapted outputs (largest difference ${d})`);
      assert.equal(plain.meta.promptStyle, 'alpaca');
    } finally {
      adapted.model.dispose();
      plain.model.dispose();
    }
  });

  it('refuses missing and wrong flags in one line, and lists its tasks', async () => {
    const none = await cli(['finetune', 'instruct', '--data', data, '--out', path.join(tmp, 'x')]);
    assert.equal(none.code, 1);
    assert.match(none.err, /needs --model DIR .* or --preset NAME/);
    const lone = await cli(['finetune', 'instruct', '--model', base, '--data', data, '--out', path.join(tmp, 'y'), '--lora-alpha', '4']);
    assert.equal(lone.code, 1);
    assert.match(lone.err, /--lora-alpha and --lora-targets need --lora-rank/);
    const split = await cli(['finetune', 'instruct', '--model', base, '--data', data, '--out', path.join(tmp, 'z'), '--val-fraction', '0.5', '--test-fraction', '0.5']);
    assert.equal(split.code, 1);
    assert.match(split.err, /--val-fraction \(0\.5\) and --test-fraction \(0\.5\) leave nothing to train on/);
    for (const r of [none, lone, split]) assert.equal(r.err.trimEnd().split('\n').length, 1, r.err);
    const task = await cli(['finetune', 'poetry']);
    assert.equal(task.code, 1);
    assert.match(task.err, /unknown command 'finetune poetry'; 'finetune' takes one of: classify, instruct/);
    const help = await cli(['finetune', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.out, /instruct/);
  });
});
