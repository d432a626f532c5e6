import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { listCheckpoints, loadModel } from '../../../../src/core/checkpoint/modelFiles';
import { loadTrainingState, saveTrainingCheckpoint } from '../../../../src/core/checkpoint/trainingState';
import { initEngine, tf } from '../../../../src/core/engine';
import { LlmLabError } from '../../../../src/core/errors';
import { makeConfig } from '../../../../src/core/model/config';
import { GptModel } from '../../../../src/core/model/gpt';

/** A pid no process has now: one that just exited. */
function deadPid(): number {
  return Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout);
}

const cfg = makeConfig('tiny', { vocabSize: 13, contextLength: 4, embDim: 4, nHeads: 2, nLayers: 1 });

describe('training checkpoints', () => {
  let dir: string;
  before(async () => {
    await initEngine('cpu');
  });
  beforeEach(async () => {
    dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'llmlab-ts-'));
  });
  afterEach(async () => {
    await fsp.rm(dir, { recursive: true, force: true });
  });

  it('writes model and resume state in one step folder and reads the state back', async () => {
    const model = GptModel.create(cfg, 1);
    const moment = tf.tensor2d([[1, 2], [3, 4.5]]);
    const saved = await saveTrainingCheckpoint(dir, {
      step: 7, model, optimizerTensors: new Map([['exp_avg.x', moment]]), state: { step: 7, sampler: { epoch: 1, cursor: 8 } },
    });
    assert.equal(saved, path.join(dir, 'checkpoints', 'step-000007'));
    assert.deepEqual((await fsp.readdir(saved)).sort(), ['config.json', 'model.safetensors', 'training_state.json', 'training_state.safetensors']);
    const { state, optimizerTensors } = await loadTrainingState(saved);
    assert.equal(state.step, 7);
    assert.equal(state.formatVersion, 1);
    assert.deepEqual(state.sampler, { epoch: 1, cursor: 8 });
    assert.deepEqual(optimizerTensors.get('exp_avg.x')!.shape, [2, 2]);
    assert.deepEqual([...optimizerTensors.get('exp_avg.x')!.data], [1, 2, 3, 4.5]);
    const config = JSON.parse(await fsp.readFile(path.join(saved, 'config.json'), 'utf8'));
    assert.equal(config.llm_lab.step, 7);
    moment.dispose();
    model.dispose();
  });

  it('keeps only the latest checkpoints and cleans up an interrupted one', async () => {
    const model = GptModel.create(cfg, 2);
    await fsp.mkdir(path.join(dir, 'checkpoints', `.step-000003.tmp-${deadPid()}-x-0`), { recursive: true });
    for (const step of [1, 2, 3, 4]) {
      await saveTrainingCheckpoint(dir, { step, model, optimizerTensors: new Map(), state: { step }, keepLast: 2 });
    }
    assert.deepEqual((await listCheckpoints(path.join(dir, 'checkpoints'))).map((c) => c.step), [3, 4]);
    assert.deepEqual((await fsp.readdir(path.join(dir, 'checkpoints'))).sort(), ['step-000003', 'step-000004']);
    const loaded = await loadModel(dir);
    assert.equal(path.basename(loaded.dir), 'step-000004');
    loaded.model.dispose();
    model.dispose();
  });

  it('never prunes the best-scored checkpoint, and the latest stays the one a resume takes', async () => {
    const model = GptModel.create(cfg, 2);
    const scores = [5, 3, 4, 8, 9]; // validation losses: step 2 is the best, then the run got worse
    for (const [i, score] of scores.entries()) {
      await saveTrainingCheckpoint(dir, { step: i + 1, model, optimizerTensors: new Map(), state: { step: i + 1 }, keepLast: 2, score });
    }
    assert.deepEqual((await listCheckpoints(path.join(dir, 'checkpoints'))).map((c) => c.step), [2, 4, 5]);
    const loaded = await loadModel(dir);
    assert.equal(path.basename(loaded.dir), 'step-000005');
    loaded.model.dispose();
    // A better one later takes the place of the old best.
    await saveTrainingCheckpoint(dir, { step: 6, model, optimizerTensors: new Map(), state: { step: 6 }, keepLast: 2, score: 1 });
    await saveTrainingCheckpoint(dir, { step: 7, model, optimizerTensors: new Map(), state: { step: 7 }, keepLast: 2, score: 2 });
    await saveTrainingCheckpoint(dir, { step: 8, model, optimizerTensors: new Map(), state: { step: 8 }, keepLast: 2, score: 2 });
    assert.deepEqual((await listCheckpoints(path.join(dir, 'checkpoints'))).map((c) => c.step), [6, 7, 8]);
    model.dispose();
  });

  it("cleans up only its own interrupted saves: never a user's file, nor another live process's save", async () => {
    const model = GptModel.create(cfg, 2);
    const ckpts = path.join(dir, 'checkpoints');
    const kept = ['.notes.tmp-1', '.x.old-12-a-b', 'step.tmp-4', `.step-000002.tmp-${process.ppid}-k-0`, '.step-000002.tmp-abc'];
    await fsp.mkdir(ckpts, { recursive: true });
    for (const f of kept) await fsp.writeFile(path.join(ckpts, f), 'not LLM Lab\'s to delete');
    const dead = [`.step-000002.tmp-${deadPid()}-k-0`, `.step-000001.old-${deadPid()}-k2-1`];
    for (const f of dead) await fsp.mkdir(path.join(ckpts, f));
    await saveTrainingCheckpoint(dir, { step: 3, model, optimizerTensors: new Map(), state: { step: 3 } });
    assert.deepEqual((await fsp.readdir(ckpts)).sort(), [...kept, 'step-000003'].sort());
    model.dispose();
  });

  it('says when a folder holds weights but no resume state', async () => {
    const model = GptModel.create(cfg, 3);
    const saved = await saveTrainingCheckpoint(dir, { step: 1, model, optimizerTensors: new Map(), state: { step: 1 } });
    await fsp.rm(path.join(saved, 'training_state.json'));
    await assert.rejects(loadTrainingState(saved), (e: unknown) => {
      assert.ok(e instanceof LlmLabError && e.code === 'bad-checkpoint');
      assert.match(e.message, /training_state\.json is missing.*cannot resume/);
      return true;
    });
    model.dispose();
  });
});
