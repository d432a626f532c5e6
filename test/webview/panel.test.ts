// The lab panel bundle in real Chromium against a fake host that plays back protocol messages: curves
// get the right number of points, heatmap cells have the colours of the weights sent, the playground
// streams tokens, invalid messages are refused, and the state comes back after a reload. Screenshots go
// to test-results/.
import * as assert from 'node:assert/strict';
import type { PageWindow, PanelPage } from './harness';
import { DARK, showAttention, usePanelBrowser } from './harness';
import { T, hex, near, ramp, tokens, weights } from './fixtures';

const step = (runId: string, n: number) => ({
  type: 'train/didReportStep',
  body: { runId, step: n, totalSteps: 2000, loss: 10 / (1 + n / 100), lr: 1e-3 * Math.min(1, n / 100), tokensSeen: n * 512, tokensPerSec: 4000 },
});
const evalAt = (runId: string, n: number) => ({ type: 'train/didReportEval', body: { runId, step: n, valLoss: 11 / (1 + n / 100), tokensSeen: n * 512 } });

async function points(p: PanelPage, chart: string, expected: Record<string, number>): Promise<Record<string, number>> {
  const want = JSON.stringify(expected);
  try {
    await p.page.waitForFunction(([sel, w]) => (globalThis as unknown as PageWindow).document.querySelector(sel)?.dataset.points === w, [chart, want] as const, { timeout: 5000 });
  } catch {
    // fall through and report what is there
  }
  return JSON.parse((await p.page.getAttribute(chart, 'data-points')) ?? '{}');
}

describe('lab panel in Chromium', function () {
  this.timeout(60_000);
  const panel = usePanelBrowser();

  it('loads under the strict CSP, says ready, and breaks no CSP rule', async () => {
    const p = await panel.open();
    const sent = await p.sent();
    assert.equal(sent[0].type, 'ready');
    await p.page.waitForSelector('#train-start');
    assert.deepEqual(await p.cspViolations(), []);
    await p.page.close();
  });

  it('draws live curves with one point per step and eval, overlays runs, and ignores repeats', async () => {
    const p = await panel.open();
    const run1 = [];
    for (let n = 1; n <= 1500; n++) run1.push(step('run-1', n));
    for (let n = 100; n <= 1500; n += 100) run1.push(evalAt('run-1', n));
    await p.postAll(run1);
    await p.postAll([...Array.from({ length: 300 }, (_, i) => step('run-2', i + 1)), evalAt('run-2', 300)]);
    // A replay after a reload repeats points already held: counts must not change.
    await p.post({ type: 'train/didReplay', body: { steps: [step('run-1', 5).body, step('run-1', 6).body], evals: [evalAt('run-1', 100).body] } });
    const expected = { 'run-1 train': 1500, 'run-1 val': 15, 'run-2 train': 300, 'run-2 val': 1 };
    assert.deepEqual(await points(p, '#loss-chart', expected), expected);
    assert.deepEqual(await points(p, '#lr-chart', { 'run-1 lr': 1500, 'run-2 lr': 300 }), { 'run-1 lr': 1500, 'run-2 lr': 300 });
    const stats = await p.page.textContent('#run-stats');
    assert.ok(stats?.includes('1500 / 2000') && stats.includes('4,000'), `stats table: ${stats}`);
    // The loss canvas really has run-1's colour on it.
    const blue = hex(DARK['--vscode-charts-blue']);
    const drawn = await p.page.evaluate((c) => {
      const d = globalThis as unknown as { document: { querySelector(s: string): { width: number; height: number; getContext(k: string): { getImageData(x: number, y: number, w: number, h: number): { data: ArrayLike<number> } } } } };
      const canvas = d.document.querySelector('#loss-chart canvas');
      const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
      let n = 0;
      for (let k = 0; k < data.length; k += 4) if (Math.abs(data[k] - c[0]) < 30 && Math.abs(data[k + 1] - c[1]) < 30 && Math.abs(data[k + 2] - c[2]) < 30) n++;
      return n;
    }, blue);
    assert.ok(drawn > 200, `expected a drawn curve in the series colour, found ${drawn} pixels`);
    // Log scale and tokens-seen axis keep the points.
    await p.page.click('#log-scale');
    await p.page.click('#x-tokens');
    assert.deepEqual(await points(p, '#loss-chart', expected), expected);
    await p.screenshot('training');
    await p.page.close();
  });

  it('sends start/stop/resume and enables the buttons that fit the run state', async () => {
    const p = await panel.open();
    await p.page.click('#train-start');
    await p.post({ type: 'train/didChangeState', body: { runId: 'run-1', state: 'running' } });
    assert.equal(await p.page.getAttribute('#train-start', 'disabled'), '');
    await p.page.click('#train-stop');
    await p.post({ type: 'train/didChangeState', body: { runId: 'run-1', state: 'cancelled' } });
    await p.page.click('#train-resume');
    const types = (await p.sent()).map((m) => m.type).filter((t) => t.startsWith('train/'));
    assert.deepEqual(types, ['train/start', 'train/stop', 'train/resume']);
    assert.equal(await p.page.textContent('#train-state'), 'cancelled (run-1)');
    await p.page.close();
  });

  it('draws heatmap cells in the colours of the weights sent, masks the future, and tells the pair on hover', async () => {
    const p = await panel.open();
    await p.page.click('[data-tab=attention]');
    await p.page.locator('#attn-text textarea').fill('The cat sat');
    await p.page.click('#attn-show');
    const req = (await p.sent()).find((m) => m.type === 'attention/request');
    assert.ok(req, 'the panel asked the host for attention maps');
    assert.equal(req.body.text, 'The cat sat');
    await p.post({ type: 'attention/didCompute', body: { requestId: req.body.requestId, tokens, weights } });
    await p.page.waitForFunction(() => (globalThis as unknown as PageWindow).document.querySelector('#attn-big')?.dataset.cell);
    const cell = Number(await p.page.getAttribute('#attn-big', 'data-cell'));
    const o = Number(await p.page.getAttribute('#attn-big', 'data-origin'));
    const bg = hex(DARK['--vscode-editor-background']);
    const hot = hex(DARK['--vscode-charts-orange']);
    const mask = ramp(bg, hex(DARK['--vscode-disabledForeground']), 0.35);
    const at = (i: number, j: number) => p.pixel('#attn-big', o + j * cell + cell / 2, o + i * cell + cell / 2);
    for (let i = 0; i < T; i++) {
      for (let j = 0; j < T; j++) {
        const expected = j > i ? mask : ramp(bg, hot, weights[0][0][i * T + j]);
        near(await at(i, j), expected, `layer 0 head 0 cell (${i}, ${j})`);
      }
    }
    // The average over heads of layer 1.
    await p.page.click('#attn-small-1-avg');
    assert.match((await p.page.textContent('#attn-title')) ?? '', /Layer 1, average of heads/);
    const avg = (i: number, j: number) => (weights[1][0][i * T + j] + weights[1][1][i * T + j]) / 2;
    near(await at(3, 1), ramp(bg, hot, avg(3, 1)), 'average cell (3, 1)');
    near(await at(2, 2), ramp(bg, hot, avg(2, 2)), 'average cell (2, 2)');
    // Hover tells the query and key tokens and the weight.
    const box = await p.page.locator('#attn-big').boundingBox();
    assert.ok(box);
    await p.page.mouse.move(box.x + o + 1.5 * cell, box.y + o + 3.5 * cell);
    const tip = await p.page.textContent('#attn-tooltip');
    assert.equal(tip, `"\\n" (3) → " cat" (1): ${avg(3, 1).toFixed(4)}`);
    // Keyboard: arrows move over cells and a live region reads them out.
    await p.page.focus('#attn-big');
    await p.page.keyboard.press('ArrowDown');
    await p.page.keyboard.press('ArrowRight');
    assert.equal(await p.page.textContent('#attn-readout'), `" cat" (1) → " cat" (1): ${avg(1, 1).toFixed(4)}`);
    await p.page.keyboard.press('ArrowRight');
    assert.match((await p.page.textContent('#attn-readout')) ?? '', /\(1\) → " sat" \(2\): 0\.0000 \(masked/);
    assert.equal(await p.page.locator('.attn-small').count(), 2 * 3);
    await p.screenshot('attention');
    await p.page.close();
  });

  it('fills the attention text from the editor selection', async () => {
    const p = await panel.open();
    await p.page.click('[data-tab=attention]');
    await p.page.click('#attn-selection');
    assert.ok((await p.sent()).some((m) => m.type === 'editor/requestSelection'));
    await p.post({ type: 'editor/didSelect', body: { text: 'Every effort moves you' } });
    const req = (await p.sent()).filter((m) => m.type === 'attention/request');
    assert.equal(req.length, 1);
    assert.equal(req[0].body.text, 'Every effort moves you');
    await p.page.close();
  });

  it('streams playground tokens, shows their candidates, stops, copies and inserts', async () => {
    const p = await panel.open();
    await p.page.click('[data-tab=playground]');
    await p.page.locator('#gen-prompt textarea').fill('Every effort moves');
    await p.page.locator('#gen-temperature input').fill('0.5');
    await p.page.locator('#gen-topP input').fill('0.9');
    await p.page.click('#gen-start');
    const start = (await p.sent()).find((m) => m.type === 'generate/start');
    assert.ok(start);
    const { requestId, ...settings } = start.body;
    assert.deepEqual(settings, { prompt: 'Every effort moves', temperature: 0.5, topK: 40, topP: 0.9, maxNewTokens: 50, seed: 123, topCandidates: 5 });
    const pieces = [' you', ' forward', '.'];
    for (const [k, text] of pieces.entries()) {
      await p.post({ type: 'generate/didStreamToken', body: { requestId, id: 100 + k, text, candidates: [{ id: 100 + k, text, prob: 0.6 }, { id: 7, text: ' me', prob: 0.3 }] } });
      assert.equal(await p.page.locator('#gen-output .token').count(), k + 1);
    }
    // Tokens of another request are not mixed in.
    await p.post({ type: 'generate/didStreamToken', body: { requestId: 'other', id: 1, text: 'X' } });
    assert.equal(await p.page.textContent('#gen-output'), 'Every effort moves you forward.');
    await p.page.click('#gen-output .token >> nth=1');
    const cands = await p.page.textContent('#gen-candidates');
    assert.ok(cands?.includes('" forward" 60.0%') && cands.includes('" me" 30.0%'), cands ?? '');
    await p.page.click('#gen-stop');
    await p.post({ type: 'generate/didFinish', body: { requestId, reason: 'stopped' } });
    assert.equal(await p.page.textContent('#gen-status'), 'Stopped after 3 tokens.');
    await p.page.click('#gen-copy');
    await p.page.click('#gen-insert');
    const sent = await p.sent();
    assert.deepEqual(sent.find((m) => m.type === 'generate/stop')?.body, { requestId });
    assert.deepEqual(sent.find((m) => m.type === 'clipboard/copy')?.body, { text: ' you forward.' });
    assert.deepEqual(sent.find((m) => m.type === 'editor/insert')?.body, { text: ' you forward.' });
    await p.screenshot('playground');
    await p.page.close();
  });

  it('refuses to generate with a setting that cannot work and says which', async () => {
    const p = await panel.open();
    await p.page.click('[data-tab=playground]');
    await p.page.locator('#gen-topP input').fill('2');
    await p.page.click('#gen-start');
    assert.match((await p.page.textContent('#gen-status')) ?? '', /top-p must be above 0 and at most 1/);
    assert.ok(!(await p.sent()).some((m) => m.type === 'generate/start'));
    await p.page.close();
  });

  it('rejects invalid host messages, reports them and changes nothing', async () => {
    const p = await panel.open();
    await p.post(step('run-1', 1));
    const bad = [
      { type: 'train/didReportStep', body: { ...step('run-1', 2).body, loss: 'NaN' } },
      { type: 'attention/didCompute', body: { requestId: 'x', tokens: ['a', 'b'], weights: [[[1, 0, 0.5]]] } },
      { type: 'train/selfDestruct', body: {} },
      'not even an object',
      { type: 'editor/didSelect', body: { text: 'x', extra: 1 } },
    ];
    for (const m of bad) await p.post(m);
    await p.page.waitForFunction(() => (globalThis as unknown as PageWindow).__sent.filter((m) => m.type === 'panel/reportInvalid').length === 5);
    const reasons = (await p.sent()).filter((m) => m.type === 'panel/reportInvalid').map((m) => String(m.body.reason));
    assert.match(reasons[0], /loss: expected a number, got string "NaN"/);
    assert.match(reasons[1], /expected 4 values for 2 tokens/);
    assert.match(reasons[2], /unknown type "train\/selfDestruct"/);
    assert.deepEqual(await points(p, '#loss-chart', { 'run-1 train': 1, 'run-1 val': 0 }), { 'run-1 train': 1, 'run-1 val': 0 });
    assert.ok(!(await p.sent()).some((m) => m.type === 'attention/request'));
    await p.page.close();
  });

  it('shows model info and training-data windows', async () => {
    const p = await panel.open();
    const info = {
      name: 'tiny',
      config: { vocabSize: 50257, contextLength: 64, embDim: 64, nHeads: 2, nLayers: 2, dropRate: 0, qkvBias: true, tiedHead: true },
      parameters: 3320384,
      memory: { weightsBytes: 13281536, trainingBytes: 60000000, inferenceBytes: 20000000 },
      backend: 'wasm',
      checkpointPath: '/tmp/runs/tiny',
      tokenizer: 'gpt2',
    };
    await p.post({ type: 'model/didChange', body: { info } });
    await p.page.click('[data-tab=model]');
    const model = await p.page.textContent('#model-table');
    for (const s of ['3,320,384', '13.3 MB', 'wasm', '/tmp/runs/tiny', 'gpt2']) assert.ok(model?.includes(s), `${s} in ${model}`);
    await p.page.click('[data-tab=data]');
    await p.page.locator('#data-max-length input').fill('4');
    await p.page.locator('#data-stride input').fill('2');
    await p.page.click('#data-show');
    const req = (await p.sent()).find((m) => m.type === 'data/request');
    assert.ok(req);
    assert.deepEqual({ ...req.body, requestId: undefined }, { requestId: undefined, maxLength: 4, stride: 2, offset: 0, count: 8 });
    const w = { index: 0, inputIds: [464, 3797, 3332, 319], targetIds: [3797, 3332, 319, 262], inputTokens: ['The', ' cat', ' sat', ' on'], targetTokens: [' cat', ' sat', ' on', ' the'] };
    await p.post({ type: 'data/didPreview', body: { requestId: req.body.requestId, source: 'cat.txt', maxLength: 4, stride: 2, totalTokens: 9, totalWindows: 3, offset: 0, windows: [w] } });
    assert.match((await p.page.textContent('#data-status')) ?? '', /^cat\.txt: 9 tokens make 3 windows of 4 with stride 2/);
    const rows = await p.page.locator('#data-windows tbody tr').allTextContents();
    assert.equal(rows.length, 4);
    assert.equal(rows[1], '13797·cat3332·sat');
    assert.equal(await p.page.textContent('#data-windows .window-text'), 'Input: The cat sat on → target:  cat sat on the');
    await p.screenshot('data');
    await p.page.close();
  });

  it('restores curves, attention, playground and the open tab from the saved state after a reload', async () => {
    const p = await panel.open();
    await p.postAll([step('run-1', 1), step('run-1', 2), step('run-1', 3), evalAt('run-1', 3)]);
    await showAttention(p, 'The cat sat', { tokens, weights });
    await p.page.click('#attn-small-0-1');
    await p.page.click('[data-tab=playground]');
    await p.page.locator('#gen-prompt textarea').fill('Once upon');
    await p.page.locator('#gen-seed input').fill('7');
    // The panel saves its state shortly after a change; wait until the last edits are in it.
    await p.page.waitForFunction(() => JSON.stringify((globalThis as unknown as PageWindow).__getState() ?? {}).includes('"seed":"7"'));
    const saved = await p.state();
    await p.page.close();

    const q = await panel.open({ state: saved });
    assert.equal(await q.page.getAttribute('#tabs', 'selected-index'), '2');
    assert.equal(await q.page.locator('#gen-prompt textarea').inputValue(), 'Once upon');
    assert.equal(await q.page.locator('#gen-seed input').inputValue(), '7');
    assert.deepEqual(await points(q, '#loss-chart', { 'run-1 train': 3, 'run-1 val': 1 }), { 'run-1 train': 3, 'run-1 val': 1 });
    assert.match((await q.page.textContent('#attn-title')) ?? '', /Layer 0, head 1/);
    await q.page.close();
  });
});
