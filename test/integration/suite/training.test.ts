// Pretraining through the extension in a real extension host: a short run writes a checkpoint and reports
// progress, Stop cancels it, a second run is refused while one runs, and killing the worker mid-run is
// reported and the run resumes from its checkpoint. Uses the tiny preset with a short context so each
// step takes well under a second on a CPU. Then the trained model generates and is evaluated.
import * as assert from 'node:assert';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import * as vscode from 'vscode';
import type { TrainingEvent, TrainOutcome } from '../../../src/extension/training';
import { api, messagesSince, waitFor, workspaceRoot } from './helpers';

const SMALL = { files: ['corpus/the-verdict.txt'], preset: 'tiny', batchSize: 2, contextLength: 32, learningRate: 0.001, yes: true };

function listFiles(dir: string, root = dir): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    return e.isDirectory() ? listFiles(p, root) : [relative(root, p)];
  });
}

function collect(a: Awaited<ReturnType<typeof api>>): { events: TrainingEvent[]; status: string[]; dispose(): void } {
  const events: TrainingEvent[] = [];
  const status: string[] = [];
  const sub = a.lab.training.onDidEvent((e) => {
    events.push(e);
    const s = a.lab.training.statusText;
    if (s) status.push(s);
  });
  return { events, status, dispose: () => sub.dispose() };
}

describe('pretraining', function () {
  this.timeout(240_000);

  before(async () => {
    const info = (await vscode.commands.executeCommand('llmLab.showEngine')) as { gradientsMissing?: string };
    // npm run build makes the gradient bundle, so an engine without it is a broken build, not a reason to skip.
    if (info.gradientsMissing) throw new Error(`This build cannot train: ${info.gradientsMissing}.`);
  });

  it('a short run writes a checkpoint, logs metrics and reports progress, touching nothing else', async () => {
    const a = await api();
    const root = workspaceRoot();
    const before = listFiles(root).filter((f) => !f.startsWith('.llm-lab')).sort();
    const c = collect(a);
    const out = (await vscode.commands.executeCommand('llmLab.pretrain', { ...SMALL, steps: 4, evalEvery: 2, checkpointEvery: 2 })) as TrainOutcome;
    c.dispose();
    assert.ok(out, `no outcome; messages: ${a.messages().map((m) => m.text).join(' | ')}`);
    assert.strictEqual(out.status, 'completed', out.error);
    assert.strictEqual(out.steps, 4);
    const steps = c.events.flatMap((e) => (e.event.type === 'step' ? [e.event] : []));
    assert.deepStrictEqual(steps.map((s) => s.step), [1, 2, 3, 4]);
    assert.ok(steps.every((s) => Number.isFinite(s.loss) && s.totalSteps === 4 && s.tokensSeen > 0));
    assert.ok(c.events.some((e) => e.event.type === 'eval'), 'no validation loss was reported');
    assert.ok(c.events.some((e) => e.event.type === 'checkpoint'), 'no checkpoint was reported');
    assert.ok(c.status.some((s) => /step \d\/4 · loss \d+\.\d{3} · [\d.k]+ tok\/s/.test(s)), `status bar said ${JSON.stringify(c.status)}`);

    const runs = join(root, '.llm-lab', 'runs');
    assert.ok(readFileSync(join(runs, '.gitignore'), 'utf8').split('\n').includes('*'), 'the runs folder does not ignore itself');
    assert.ok(out.checkpointDir && existsSync(join(out.checkpointDir, 'model.safetensors')) && existsSync(join(out.checkpointDir, 'config.json')));
    assert.ok(!relative(runs, out.checkpointDir).startsWith('..'), 'the checkpoint is outside the runs folder');
    const record = JSON.parse(readFileSync(join(out.runDir, 'job.json'), 'utf8')) as { job: { steps: number } };
    assert.ok(existsSync(join(out.runDir, 'run.json')), "core's run record is missing");
    assert.strictEqual(record.job.steps, 4);
    const metrics = readFileSync(join(out.runDir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string });
    assert.strictEqual(metrics.filter((m) => m.type === 'step').length, 4);
    assert.deepStrictEqual(listFiles(root).filter((f) => !f.startsWith('.llm-lab')).sort(), before, 'the job changed workspace files');
    assert.strictEqual(a.lab.model.dir, out.checkpointDir, 'the finished run did not become the selected model');
  });

  it('generates from the trained model into a new editor, and evaluates it on a file', async () => {
    const a = await api();
    const gen = (await vscode.commands.executeCommand('llmLab.generateFromSelection', { prompt: 'Every effort moves you', maxNewTokens: 6, temperature: 0, seed: 1 })) as { text: string; uri: string };
    assert.ok(gen, a.messages().map((m) => m.text).join(' | '));
    const doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === gen.uri);
    assert.ok(doc, 'no editor holds the generation');
    assert.ok(doc.getText().startsWith('Every effort moves you'));
    assert.ok(doc.getText().length > 'Every effort moves you'.length, 'nothing was streamed into the editor');
    const ev = (await vscode.commands.executeCommand('llmLab.evaluateModelOnFile', { file: join(workspaceRoot(), 'corpus', 'notes.md') })) as { loss: number; perplexity: number; tokens: number };
    assert.ok(ev && Number.isFinite(ev.loss) && ev.loss > 0 && ev.tokens > 10);
    assert.ok(Math.abs(Math.log(ev.perplexity) - ev.loss) < 1e-3, 'perplexity is not exp(loss)');
    const info = (await vscode.commands.executeCommand('llmLab.selectModel', { modelDir: a.lab.model.dir })) as { parameters: number; config: { contextLength: number } };
    assert.strictEqual(info.config.contextLength, 32);
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');

    // The lab panel's backend reaches the same model through the worker.
    const panel = a.panel();
    const pInfo = await panel.modelInfo();
    assert.ok(pInfo && pInfo.config.contextLength === 32 && pInfo.checkpointPath === a.lab.model.dir);
    const maps = await panel.attention('Every effort moves you', new AbortController().signal);
    assert.strictEqual(maps.layers.length, pInfo.config.nLayers);
    assert.strictEqual(maps.layers[0][0].length, maps.tokens.length ** 2);
    const pieces: string[] = [];
    for await (const p of panel.generate({ prompt: 'Every effort', maxNewTokens: 4, temperature: 0, topCandidates: 3 }, new AbortController().signal)) {
      assert.strictEqual(p.candidates?.length, 3);
      pieces.push(p.text);
    }
    assert.ok(pieces.length > 0 && pieces.length <= 4);
    const data = await panel.dataPreview({ maxLength: 8, stride: 8, offset: 0, count: 2 }, new AbortController().signal);
    assert.strictEqual(data.windows.length, 2);
    assert.deepStrictEqual(data.windows[0].targetIds.slice(0, 7), data.windows[0].inputIds.slice(1));
  });

  it('Stop Training cancels a run, and a second run is refused while one runs', async () => {
    const a = await api();
    const c = collect(a);
    const running = vscode.commands.executeCommand('llmLab.pretrain', { ...SMALL, steps: 500, evalEvery: 1000, checkpointEvery: 1000 }) as Thenable<TrainOutcome>;
    await waitFor('the first step', () => c.events.some((e) => e.event.type === 'step'), 120_000);
    assert.ok(a.lab.training.isRunning);
    const t0 = Date.now();
    assert.strictEqual(await vscode.commands.executeCommand('llmLab.pretrain', { ...SMALL, steps: 2 }), undefined);
    assert.ok(messagesSince(a, t0).some((m) => /^warning: Training .* is already running/.test(m)), messagesSince(a, t0).join('\n'));
    const stopped = (await vscode.commands.executeCommand('llmLab.stopTraining')) as TrainOutcome;
    const out = await running;
    c.dispose();
    assert.strictEqual(out.status, 'cancelled');
    assert.strictEqual(stopped.status, 'cancelled');
    assert.ok(out.steps < 500, `ran ${out.steps} steps`);
    assert.strictEqual(a.lab.training.isRunning, false);
  });

  it('killing the worker mid-run is reported, and Resume continues from the checkpoint', async () => {
    const a = await api();
    const c = collect(a);
    const t0 = Date.now();
    const running = vscode.commands.executeCommand('llmLab.pretrain', { ...SMALL, steps: 10, evalEvery: 100, checkpointEvery: 2 }) as Thenable<TrainOutcome>;
    const ckpt = await waitFor('a checkpoint', () => c.events.find((e) => e.event.type === 'checkpoint' && e.event.step >= 2)?.event, 180_000);
    const lastSeen = Math.max(...c.events.flatMap((e) => (e.event.type === 'step' ? [e.event.step] : [0])));
    const pid = a.lab.worker.pid;
    assert.ok(pid);
    process.kill(pid, 'SIGKILL');
    const crashed = await running;
    c.dispose();
    assert.strictEqual(crashed.status, 'crashed');
    assert.ok(crashed.checkpointDir, 'the crashed run has no checkpoint to resume from');
    await waitFor('the crash message', () => messagesSince(a, t0).some((m) => /^error: The worker process stopped during training .* resume from its last checkpoint/.test(m)));

    const r = collect(a);
    const resumed = (await vscode.commands.executeCommand('llmLab.resumeTraining', { runDir: crashed.runDir })) as TrainOutcome;
    r.dispose();
    assert.strictEqual(resumed.status, 'completed', resumed.error);
    assert.notStrictEqual(a.lab.worker.pid, pid, 'the worker was not restarted');
    const ckptStep = ckpt.type === 'checkpoint' ? ckpt.step : 0;
    assert.ok(resumed.firstStep !== null && resumed.firstStep > ckptStep && resumed.firstStep <= lastSeen + 1, `resumed at step ${resumed.firstStep}, checkpoint was at ${ckptStep}`);
    assert.strictEqual(resumed.steps, 10);
  });
});
