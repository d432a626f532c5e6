// Download GPT-2 in a real extension host: the command downloads from a hub on 127.0.0.1 (the settings point
// at it) into the models folder the settings name, the model then shows in Select Model's list and works for
// Generate. The hub serves a one-layer GPT-2 with GPT-2's vocabulary, made here with the tensor names and
// shapes of openai-community/gpt2's file.
import * as assert from 'node:assert';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { writeSafetensors } from '../../../src/core/checkpoint/safetensors';
import type { TensorToWrite } from '../../../src/core/checkpoint/safetensors';
import type { FakeHub } from '../../unit/core/hub/fakeHub';
import { startFakeHub } from '../../unit/core/hub/fakeHub';
import { api } from './helpers';

const V = 50257;
const C = 8;
const T = 16;

function gpt2Tensors(): TensorToWrite[] {
  let seed = 1;
  const rand = (n: number, scale = 0.02): Float32Array => Float32Array.from({ length: n }, () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return (seed / 2 ** 31 - 0.5) * 2 * scale;
  });
  const ones = (n: number) => new Float32Array(n).fill(1);
  const t = (name: string, shape: number[], data?: Float32Array): TensorToWrite => ({ name, shape, data: data ?? rand(shape.reduce((a, b) => a * b, 1)) });
  return [
    t('wte.weight', [V, C]),
    t('wpe.weight', [T, C]),
    t('h.0.ln_1.weight', [C], ones(C)),
    t('h.0.ln_1.bias', [C], new Float32Array(C)),
    t('h.0.attn.c_attn.weight', [C, 3 * C]),
    t('h.0.attn.c_attn.bias', [3 * C]),
    t('h.0.attn.c_proj.weight', [C, C]),
    t('h.0.attn.c_proj.bias', [C]),
    t('h.0.ln_2.weight', [C], ones(C)),
    t('h.0.ln_2.bias', [C], new Float32Array(C)),
    t('h.0.mlp.c_fc.weight', [C, 4 * C]),
    t('h.0.mlp.c_fc.bias', [4 * C]),
    t('h.0.mlp.c_proj.weight', [4 * C, C]),
    t('h.0.mlp.c_proj.bias', [C]),
    t('ln_f.weight', [C], ones(C)),
    t('ln_f.bias', [C], new Float32Array(C)),
  ];
}

describe('Download GPT-2', function () {
  this.timeout(120_000);
  let hub: FakeHub;
  let tmp: string;
  const config = vscode.workspace.getConfiguration('llmLab');

  before(async () => {
    hub = await startFakeHub();
    tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'llm-lab-dl-vscode-'));
    const weights = path.join(tmp, 'model.safetensors');
    await writeSafetensors(weights, gpt2Tensors(), { format: 'pt' });
    const cfg = { model_type: 'gpt2', architectures: ['GPT2LMHeadModel'], vocab_size: V, n_positions: T, n_ctx: T, n_embd: C, n_head: 2, n_layer: 1 };
    hub.files.set('openai-community/gpt2/config.json', { bytes: Buffer.from(JSON.stringify(cfg)), lfs: false });
    hub.files.set('openai-community/gpt2/model.safetensors', { bytes: await fsp.readFile(weights), lfs: true });
    await config.update('download.hubUrl', hub.baseUrl, vscode.ConfigurationTarget.Global);
    await config.update('download.modelsFolder', path.join(tmp, 'models'), vscode.ConfigurationTarget.Global);
  });
  after(async () => {
    await config.update('download.hubUrl', undefined, vscode.ConfigurationTarget.Global);
    await config.update('download.modelsFolder', undefined, vscode.ConfigurationTarget.Global);
    await hub.close();
    await fsp.rm(tmp, { recursive: true, force: true });
  });

  it('downloads into the models folder, verified, and the model can be selected and generate', async () => {
    const a = await api();
    const r = (await vscode.commands.executeCommand('llmLab.downloadGpt2', { name: 'gpt2' })) as { dir: string; files: { name: string; verified?: string }[] } | undefined;
    assert.ok(r, `no result; messages: ${a.messages().map((m) => m.text).join(' | ')}`);
    assert.strictEqual(r.dir, path.join(tmp, 'models', 'gpt2'));
    assert.deepStrictEqual(r.files.map((f) => [f.name, f.verified]), [['config.json', 'git-oid'], ['model.safetensors', 'sha256']]);
    assert.ok(a.messages().some((m) => /Downloaded gpt2/.test(m.text)));

    const info = (await vscode.commands.executeCommand('llmLab.selectModel', { modelDir: r.dir })) as { parameters: number; config: { nLayers: number } } | undefined;
    assert.ok(info, `not selected; messages: ${a.messages().map((m) => m.text).join(' | ')}`);
    assert.strictEqual(info.config.nLayers, 1);
    assert.strictEqual(info.parameters, V * C + T * C + 12 * C * C + 13 * C + 2 * C);
    const gen = (await vscode.commands.executeCommand('llmLab.generateFromSelection', { prompt: 'Hello', maxNewTokens: 3, temperature: 0 })) as { text: string } | undefined;
    assert.ok(gen, 'generate returned nothing');
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  });

  it('a hub without the model is a clear error, and nothing is left in the models folder', async () => {
    const a = await api();
    const since = Date.now();
    const r = await vscode.commands.executeCommand('llmLab.downloadGpt2', { name: 'gpt2-xl' });
    assert.strictEqual(r, undefined);
    const shown = a.messages().filter((m) => m.at >= since && m.level === 'error').map((m) => m.text);
    assert.ok(shown.some((t) => /gpt2-xl\/resolve\/main\/config\.json was not found \(HTTP 404\)/.test(t)), JSON.stringify(shown));
    const left = await fsp.readdir(path.join(tmp, 'models', 'gpt2-xl')).catch(() => []);
    assert.deepStrictEqual(left, []);
  });
});
