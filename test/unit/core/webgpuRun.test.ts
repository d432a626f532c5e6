// Training and generation on the webgpu backend (SwiftShader here, see engine/webgpuHelpers.ts): a short run
// ends where the same run on the native backend (or cpu, where native is not built) ends; a training step reads
// back only the loss and the gradient norm; greedy generation with the KV cache picks the same tokens as on cpu.
import * as assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { BackendName } from '../../../src/core/engine';
import { engineInfo, initEngine, tf } from '../../../src/core/engine';
import { generateText } from '../../../src/core/generate';
import { GptModel } from '../../../src/core/model/gpt';
import type { TrainEvent } from '../../../src/core/train/events';
import { AdamW } from '../../../src/core/train/optimizer';
import { pretrain } from '../../../src/core/train/pretrain';
import { clipGradients, computeGradients } from '../../../src/core/train/step';
import { registerGradients } from '../../../src/core/engine/gradients';
import { startSoftwareWebgpu } from './engine/webgpuHelpers';
import { sharpModel, ToyTokenizer, toyConfig } from './generate/helpers';

/** A repeating 0 … 12 sequence: the loss falls fast, so the runs are compared while it moves. */
const tokens = Array.from({ length: 600 }, (_, i) => i % 13);
const model = { vocabSize: 24, contextLength: 12, embDim: 24, nHeads: 2, nLayers: 2, dropRate: 0 };

async function stepLosses(backend: BackendName, outDir: string): Promise<number[]> {
  if (backend === 'webgpu') await startSoftwareWebgpu();
  else await initEngine(backend);
  const events: TrainEvent[] = [];
  await pretrain(
    { outDir, tokens, preset: 'tiny', model, batchSize: 4, steps: 12, lr: 1e-2, warmupSteps: 2, evalEvery: 6, sampleEvery: 0, checkpointEvery: 0, seed: 3 },
    { onEvent: (e) => events.push(e) },
  );
  return events.flatMap((e) => (e.type === 'step' ? [e.loss] : []));
}

describe('training and generation on webgpu (SwiftShader)', function () {
  this.timeout(300_000);
  let previous: BackendName | undefined;
  let root: string;

  before(async () => {
    assert.equal(registerGradients(), undefined);
    previous = engineInfo()?.backend;
    root = await fsp.mkdtemp(path.join(os.tmpdir(), 'llmlab-webgpu-'));
  });

  after(async () => {
    if (previous) await initEngine(previous);
    await fsp.rm(root, { recursive: true, force: true });
  });

  it('a 12-step run ends where the same run on native ends (loss within 1e-3)', async () => {
    let reference: BackendName = 'native';
    try {
      await initEngine('native');
    } catch {
      reference = 'cpu'; // the C++ kernels are not built on this machine: the portable ops on cpu
    }
    const want = await stepLosses(reference, path.join(root, reference));
    const got = await stepLosses('webgpu', path.join(root, 'webgpu'));
    assert.equal(tf.getBackend(), 'webgpu');
    assert.equal(got.length, 12);
    assert.ok(want[11] < want[0] - 0.5, `the ${reference} run learned: ${want[0]} → ${want[11]}`);
    got.forEach((l, i) => assert.ok(Math.abs(l - want[i]) < 1e-3, `step ${i + 1}: webgpu ${l} vs ${reference} ${want[i]}`));
  });

  it('a training step keeps its tensors on the GPU: only the loss and the gradient norm are read back', async () => {
    await startSoftwareWebgpu();
    const m = GptModel.create({ ...toyConfig }, 4);
    const opt = new AdamW(m, { beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1 });
    const T = toyConfig.contextLength;
    const ids = Int32Array.from({ length: 2 * T }, (_, i) => (i * 7) % toyConfig.vocabSize);
    const batch = { inputs: ids, targets: ids.map((x) => (x + 1) % toyConfig.vocabSize), batchSize: 2, seqLen: T };
    const backend = tf.backend() as unknown as { read(id: object): Promise<unknown>; readSync(id: object): unknown };
    const [read, readSync] = [backend.read, backend.readSync];
    const sizes: number[] = [];
    backend.read = function (this: unknown, id: object) {
      sizes.push(1);
      return read.call(backend, id);
    };
    backend.readSync = () => assert.fail('a synchronous read from the GPU');
    try {
      const { loss, grads } = await computeGradients(m, batch, 1, false, () => 0);
      const norm = await clipGradients(grads, 1);
      opt.update(grads, 1e-3, 1);
      tf.dispose([...grads.values()]);
      assert.ok(Number.isFinite(loss) && norm > 0);
    } finally {
      backend.read = read;
      backend.readSync = readSync;
    }
    assert.equal(sizes.length, 2, 'reads: the loss and the gradient norm');
    opt.dispose();
    m.dispose();
  });

  it('greedy generation with the KV cache picks the same tokens as on cpu', async () => {
    const tok = new ToyTokenizer();
    const run = async (): Promise<number[]> => {
      const m = sharpModel(6);
      const { ids } = await generateText(m, tok, 'hello', { maxNewTokens: 3, temperature: 0, stopAtEot: false });
      m.dispose();
      return ids;
    };
    await initEngine('cpu');
    const want = await run();
    await startSoftwareWebgpu();
    const got = await run();
    assert.equal(got.length, 3);
    assert.deepEqual(got, want);
  });
});
