import * as assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { listCheckpoints, loadModel } from '../../../../src/core/checkpoint/modelFiles';
import { loadTrainingState, saveTrainingCheckpoint } from '../../../../src/core/checkpoint/trainingState';
import { initEngine, tf } from '../../../../src/core/engine';
import { LlmLabError } from '../../../../src/core/errors';
import { makeConfig } from '../../../../src/core/model/config';
import { GptModel } from '../../../../src/core/model/gpt';

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
    await fsp.mkdir(path.join(dir, 'checkpoints', '.step-000003.tmp-99-x-0'), { recursive: true });
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
