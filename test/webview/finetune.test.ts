// The lab panel's fine-tuning views in real Chromium against a fake host: accuracy curves (train and
// validation) beside the loss from the evals' measures, the test split's measures and confusion matrix with
// cells shaded by their share of the row, the Model tab's classes and trained parameters, and the
// playground asking for a prompt style and showing the formatted prompt the host reports. Screenshots go
// to test-results/.
import * as assert from 'node:assert/strict';
import type { Server } from 'node:http';
import type { Browser } from 'playwright-core';
import type { PageWindow, PanelPage } from './harness';
import { DARK, launch, openPanel, startServer } from './harness';
import { hex, near, ramp } from './fixtures';
import type { Rgb } from './fixtures';

const RUN = 'classify-spam';
const step = (n: number) => ({
  type: 'train/didReportStep',
  body: { runId: RUN, step: n, totalSteps: 40, loss: 0.7 / (1 + n / 10), lr: 5e-5, tokensSeen: n * 8 * 20, tokensPerSec: 900 },
});
// Accuracy rises by 0.05 per eval; the first eval reports only the validation accuracy.
const evalAt = (n: number, k: number) => ({
  type: 'train/didReportEval',
  body: {
    runId: RUN, step: n, valLoss: 0.6 / (1 + k), tokensSeen: n * 160,
    metrics: k === 0 ? { valAccuracy: 0.5 } : { trainAccuracy: 0.5 + 0.05 * k, valAccuracy: 0.45 + 0.05 * k, trainLoss: 0.5 / (1 + k) },
  },
});
const LABELS = ['ham', 'spam', 'promo'];
// counts[i][j]: true labels[i] predicted labels[j]; row totals 10, 8, 4.
const COUNTS = [
  [9, 1, 0],
  [2, 6, 0],
  [0, 1, 3],
];

async function points(p: PanelPage, chart: string, expected: Record<string, number>): Promise<Record<string, number>> {
  const want = JSON.stringify(expected);
  await p.page
    .waitForFunction(([sel, w]) => (globalThis as unknown as PageWindow).document.querySelector(sel)?.dataset.points === w, [chart, want] as const, { timeout: 5000 })
    .catch(() => undefined);
  return JSON.parse((await p.page.getAttribute(chart, 'data-points')) ?? '{}');
}

function rgbOf(css: string): Rgb {
  const m = /rgba?\((\d+), (\d+), (\d+)/.exec(css);
  assert.ok(m, `not an rgb colour: ${css}`);
  return [Number(m[1]), Number(m[2]), Number(m[3])];
}

describe('lab panel fine-tuning views in Chromium', function () {
  this.timeout(60_000);
  let server: Server;
  let origin: string;
  let browser: Browser;

  before(async () => {
    ({ server, origin } = await startServer());
    browser = await launch();
  });
  after(async () => {
    await browser?.close();
    server?.close();
  });

  it('keeps the accuracy chart hidden for a pretraining run (no measures)', async () => {
    const p = await openPanel(browser, origin);
    await p.postAll([step(1), step(2), { type: 'train/didReportEval', body: { runId: RUN, step: 2, valLoss: 1, tokensSeen: 320 } }]);
    await points(p, '#loss-chart', { [`${RUN} train`]: 2, [`${RUN} val`]: 1 });
    assert.equal(await p.page.isVisible('#acc-chart'), false);
    assert.equal(await p.page.isVisible('#test-results'), false);
    await p.page.close();
  });

  it('draws train and validation accuracy from the evals, beside the loss, and the latest in the runs table', async () => {
    const p = await openPanel(browser, origin);
    const msgs: unknown[] = [];
    for (let n = 1; n <= 40; n++) msgs.push(step(n));
    for (let k = 0; k < 8; k++) msgs.push(evalAt(5 * (k + 1), k));
    await p.postAll(msgs);
    // 8 validation points; the first has no train accuracy.
    assert.deepEqual(await points(p, '#acc-chart', { [`${RUN} train acc`]: 7, [`${RUN} val acc`]: 8 }), { [`${RUN} train acc`]: 7, [`${RUN} val acc`]: 8 });
    assert.deepEqual(await points(p, '#loss-chart', { [`${RUN} train`]: 40, [`${RUN} val`]: 8 }), { [`${RUN} train`]: 40, [`${RUN} val`]: 8 });
    assert.equal(await p.page.isVisible('#acc-chart canvas'), true);
    // The validation accuracy of the last eval: 0.45 + 0.05 * 7 = 0.80.
    const stats = await p.page.textContent('#run-stats');
    assert.ok(stats?.includes('Val accuracy') && stats.includes('80.00%'), `stats table: ${stats}`);
    // The accuracy canvas really carries the run's colour.
    const blue = hex(DARK['--vscode-charts-blue']);
    const drawn = await p.page.evaluate((c) => {
      const d = globalThis as unknown as { document: { querySelector(s: string): { width: number; height: number; getContext(k: string): { getImageData(x: number, y: number, w: number, h: number): { data: ArrayLike<number> } } } } };
      const canvas = d.document.querySelector('#acc-chart canvas');
      const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
      let n = 0;
      for (let k = 0; k < data.length; k += 4) if (Math.abs(data[k] - c[0]) < 30 && Math.abs(data[k + 1] - c[1]) < 30 && Math.abs(data[k + 2] - c[2]) < 30) n++;
      return n;
    }, blue);
    assert.ok(drawn > 100, `expected accuracy curves in the series colour, found ${drawn} pixels`);
    // A run resumed from its step-19 checkpoint reports step 20 again: the evals from step 20 on are dropped
    // with their accuracies, leaving those of steps 5, 10 and 15 (the first without a train accuracy).
    await p.post(step(20));
    assert.deepEqual(await points(p, '#acc-chart', { [`${RUN} train acc`]: 2, [`${RUN} val acc`]: 3 }), { [`${RUN} train acc`]: 2, [`${RUN} val acc`]: 3 });
    await p.page.close();
  });

  it('shows the test measures and a confusion matrix shaded by each row’s share, and keeps them across a reload', async () => {
    const p = await openPanel(browser, origin);
    const msgs: unknown[] = [];
    for (let n = 1; n <= 40; n++) msgs.push(step(n));
    for (let k = 0; k < 8; k++) msgs.push(evalAt(5 * (k + 1), k));
    msgs.push({ type: 'train/didReportTest', body: { runId: RUN, step: 40, metrics: { testAccuracy: 18 / 22, testLoss: 0.41237 }, confusion: { labels: LABELS, counts: COUNTS } } });
    await p.postAll(msgs);
    await p.page.waitForSelector('#confusion-0');
    assert.equal(await p.page.textContent('#test-results [data-metric=testAccuracy] td'), '81.82%');
    assert.equal(await p.page.textContent('#test-results [data-metric=testLoss] td'), '0.4124');
    assert.equal(await p.page.textContent('#confusion-0 caption'), 'Confusion matrix: 18 of 22 test rows right');
    const headers = await p.page.locator('#confusion-0 thead th').allTextContents();
    assert.deepEqual(headers.slice(1), LABELS);
    const rows = await p.page.locator('#confusion-0 tbody th').allTextContents();
    assert.deepEqual(rows, LABELS);
    const bg = hex(DARK['--vscode-editor-background']);
    const hot = hex(DARK['--vscode-charts-orange']);
    for (let i = 0; i < 3; i++) {
      const total = COUNTS[i].reduce((a, b) => a + b, 0);
      for (let j = 0; j < 3; j++) {
        const cell = p.page.locator(`#confusion-0 td[data-row="${i}"][data-col="${j}"]`);
        assert.equal(await cell.textContent(), String(COUNTS[i][j]), `cell (${i}, ${j})`);
        const colour = rgbOf(await cell.evaluate((e) => (globalThis as unknown as { getComputedStyle(e: unknown): { backgroundColor: string } }).getComputedStyle(e).backgroundColor));
        near(colour, ramp(bg, hot, COUNTS[i][j] / total), `cell (${i}, ${j}) shade`);
      }
    }
    assert.match((await p.page.getAttribute('#confusion-0 td[data-row="1"][data-col="0"]', 'title')) ?? '', /2 of 8 "spam" rows predicted "ham"/);
    await p.screenshot('finetune-training');
    // Reload with the saved state: the test result and accuracy points come back. The panel saves soon after a
    // change (one save per burst), so wait for the save that holds the test result before reading it.
    await p.page.waitForFunction(() => JSON.stringify((globalThis as unknown as PageWindow).__getState() ?? {}).includes('"testLoss":0.41237'));
    const state = await p.state();
    await p.page.close();
    const q = await openPanel(browser, origin, { state });
    await q.page.waitForSelector('#confusion-0');
    assert.equal(await q.page.textContent('#confusion-0 td[data-row="2"][data-col="2"]'), '3');
    assert.deepEqual(await points(q, '#acc-chart', { [`${RUN} train acc`]: 7, [`${RUN} val acc`]: 8 }), { [`${RUN} train acc`]: 7, [`${RUN} val acc`]: 8 });
    // A replay after the reload brings a test result the panel missed.
    await q.post({ type: 'train/didReplay', body: { steps: [], evals: [], tests: [{ runId: 'other', step: 3, metrics: { testAccuracy: 1 }, confusion: { labels: ['a', 'b'], counts: [[1, 0], [0, 2]] } }] } });
    assert.equal(await q.page.textContent('#confusion-1 caption'), 'Confusion matrix: 3 of 3 test rows right');
    await q.page.close();
  });

  it('refuses a confusion matrix whose rows do not match its labels', async () => {
    const p = await openPanel(browser, origin);
    await p.post({ type: 'train/didReportTest', body: { runId: RUN, step: 4, metrics: {}, confusion: { labels: ['a', 'b'], counts: [[1, 0]] } } });
    const reasons = (await p.sent()).filter((m) => m.type === 'panel/reportInvalid').map((m) => String(m.body.reason));
    assert.equal(reasons.length, 1);
    assert.match(reasons[0], /expected 2 rows, one per label/);
    assert.equal(await p.page.isVisible('#test-results'), false);
    await p.page.close();
  });

  it('shows a classifier’s classes and what its fine-tuning trained on the Model tab', async () => {
    const p = await openPanel(browser, origin);
    const info = {
      name: 'spam-classifier',
      config: { vocabSize: 50257, contextLength: 64, embDim: 64, nHeads: 2, nLayers: 2, dropRate: 0, qkvBias: true, tiedHead: true },
      parameters: 3320514,
      memory: { weightsBytes: 13281536, trainingBytes: 60000000, inferenceBytes: 20000000 },
      backend: 'native',
      checkpointPath: '/tmp/runs/spam/checkpoints/step-000040',
      tokenizer: 'gpt2',
      task: 'classifier',
      classes: ['ham', 'spam'],
      trained: { what: 'last block, final norm and head', parameters: 50306, of: 3320514 },
    };
    await p.post({ type: 'model/didChange', body: { info } });
    await p.page.click('[data-tab=model]');
    assert.equal(await p.page.textContent('#model-table [data-key=classes] td'), '2: ham, spam');
    assert.equal(await p.page.textContent('#model-table [data-key=task] td'), 'classifier');
    assert.equal(await p.page.textContent('#model-table [data-key=trained] td'), 'last block, final norm and head (50,306 of 3,320,514 parameters, 1.5%)');
    await p.screenshot('finetune-model');
    await p.page.close();
  });

  it('formats the playground prompt in the model’s style: asks the host for it and shows the formatted text', async () => {
    const p = await openPanel(browser, origin);
    const info = {
      name: 'instruct', config: { vocabSize: 50257, contextLength: 64, embDim: 64, nHeads: 2, nLayers: 2, dropRate: 0, qkvBias: true, tiedHead: true },
      parameters: 1, memory: { weightsBytes: 1, trainingBytes: 1, inferenceBytes: 1 }, backend: 'cpu', checkpointPath: null, tokenizer: 'gpt2', promptStyle: 'phi3',
    };
    await p.post({ type: 'model/didChange', body: { info } });
    await p.page.click('[data-tab=playground]');
    // The model's style is picked for the person, and the input box shows.
    assert.equal(await p.page.inputValue('#gen-style'), 'phi3');
    assert.equal(await p.page.isVisible('#gen-input'), true);
    await p.page.selectOption('#gen-style', 'alpaca');
    await p.page.locator('#gen-prompt textarea').fill('Name a colour.');
    await p.page.locator('#gen-input textarea').fill('sky');
    await p.page.click('#gen-start');
    const req = (await p.sent()).find((m) => m.type === 'generate/start');
    assert.ok(req);
    assert.equal(req.body.prompt, 'Name a colour.');
    assert.equal(req.body.promptStyle, 'alpaca');
    assert.equal(req.body.input, 'sky');
    const formatted = 'Below is an instruction…\n\n### Instruction:\nName a colour.\n\n### Input:\nsky\n\n### Response:\n';
    await p.postAll([
      { type: 'generate/didStart', body: { requestId: req.body.requestId, prompt: formatted } },
      { type: 'generate/didStreamToken', body: { requestId: req.body.requestId, id: 4171, text: 'Blue' } },
      { type: 'generate/didFinish', body: { requestId: req.body.requestId, reason: 'done' } },
    ]);
    assert.equal(await p.page.textContent('#gen-output .prompt-text'), formatted);
    assert.equal(await p.page.textContent('#gen-output .token'), 'Blue');
    // Plain text again: no style is sent.
    await p.page.selectOption('#gen-style', '');
    assert.equal(await p.page.isVisible('#gen-input'), false);
    await p.page.click('#gen-start');
    const plain = (await p.sent()).filter((m) => m.type === 'generate/start')[1];
    assert.equal(plain.body.promptStyle, undefined);
    assert.equal(plain.body.input, undefined);
    await p.page.close();
  });
});
