// UI test of instruction fine-tuning in the real VS Code (code-server with the packaged .vsix, driven in
// Chromium). Before the workbench opens, the llm-lab CLI makes a small model that knows ten short records of
// samples/instruction-data.json by heart (a tokenizer trained on them, a tiny GPT pretrained on them for a few
// steps, then fine-tuned on them at a high learning rate) as a run of the workspace. Then, as a person would:
// LLM Lab: Fine-tune on Instructions trains LoRA adapters on that model (rank, alpha and layers chosen in the
// quick picks; the summary gives the trainable count), the panel draws the run and its test loss, and the run
// writes test-responses.json; Ask the Model answers a record's instruction in an editor; Select Model lists the
// adapter with its base; Merge LoRA Adapter writes a plain model that answers the same; and a full fine-tuning
// of fresh tiny weights is stopped from the palette and resumed from its notification to the end.
// Screenshots go to test-results/finetune-instruct-*.png. `finetuneUiTest` runs this after the classifier in
// the same workbench; run alone, it opens its own. Exits non-zero on any failure.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FrameLocator, Locator, Page } from 'playwright-core';
import { ROOT } from './codeServer';
import { until } from './panelUiTest';
import { runFromPalette, runUiTest, step, withInstalledWorkbench } from './uiTest';

const RESULTS = join(ROOT, 'test-results');
const CLI = join(ROOT, 'dist', 'cli.js');
const DATA = 'instructions.json';
/** The run of the workspace that knows the records, made by the CLI before the workbench opens. */
const BASE_RUN = 'recall';
const BASE_STEPS = 200;
const TITLE = 'LLM Lab: fine-tune on instructions';

export interface InstructionRecord {
  instruction: string;
  input: string;
  output: string;
}

/** The book's alpaca prompt and response, written out here as chapter 7 gives it. */
function alpaca(r: InstructionRecord): string {
  const input = r.input ? `\n\n### Input:\n${r.input}` : '';
  return `Below is an instruction that describes a task. Write a response that appropriately completes the request.\n\n### Instruction:\n${r.instruction}${input}\n\n### Response:\n${r.output}`;
}

function cli(args: string[]): void {
  execFileSync(process.execPath, [CLI, ...args], { cwd: ROOT, stdio: 'pipe' });
}

/** The ten shortest records of the book's data (ties by position), in that order. */
function shortRecords(): InstructionRecord[] {
  const all = JSON.parse(readFileSync(join(ROOT, 'samples', 'instruction-data.json'), 'utf8')) as InstructionRecord[];
  const size = (r: InstructionRecord) => r.instruction.length + r.input.length + r.output.length;
  return all.map((r, i) => ({ r, i })).sort((a, b) => size(a.r) - size(b.r) || a.i - b.i).slice(0, 10).map((x) => x.r);
}

/**
 * Writes the records into the workspace and makes the run `recall` that answers each of them: a 400-token
 * tokenizer keeps the tiny model's steps quick (about 5 s for all 200 of them), and its greedy answers match
 * every output (the CLI's `ask` checked this on the project's machine).
 */
export function prepareInstructions(ws: string): InstructionRecord[] {
  const records = shortRecords();
  writeFileSync(join(ws, DATA), JSON.stringify(records, null, 1) + '\n');
  const tmp = mkdtempSync(join(tmpdir(), 'llmlab-instruct-base-'));
  try {
    const text = join(tmp, 'records.txt');
    writeFileSync(text, records.map(alpaca).join('\n\n'));
    cli(['tokenizer', 'train', '--data', text, '--vocab-size', '400', '--out', join(tmp, 'tokenizer')]);
    cli(['pretrain', '--data', text, '--tokenizer', join(tmp, 'tokenizer'), '--out', join(tmp, 'pretrained'), '--steps', '20', '--batch', '4',
      '--eval-every', '0', '--sample-every', '0', '--val-fraction', '0']);
    cli(['finetune', 'instruct', '--model', join(tmp, 'pretrained'), '--data', join(ws, DATA), '--out', join(ws, '.llm-lab', 'runs', BASE_RUN),
      '--lr', '3e-3', '--epochs', String(BASE_STEPS / 2), '--batch', '5', '--val-fraction', '0', '--test-fraction', '0', '--eval-every', '0',
      '--checkpoint-every', '0', '--no-responses']);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return records;
}

/** The quick input whose title bar reads `title` (a palette row can hold the same words, so not any text). */
function quickInput(page: Page, title: string): Locator {
  return page.locator('.quick-input-widget', { has: page.locator('.quick-input-title', { hasText: title }) });
}

/** Answers the quick input titled `title`: types `value` (if any), then clicks the row matching `row` or presses Enter. */
async function answer(page: Page, title: string, opts: { value?: string; row?: string } = {}): Promise<void> {
  const widget = quickInput(page, title);
  await widget.waitFor({ state: 'visible', timeout: 30_000 });
  const input = widget.locator('input[type=text], input:not([type])').first();
  if (opts.value !== undefined) await input.fill(opts.value);
  if (opts.row) await widget.locator('.quick-input-list .monaco-list-row', { hasText: opts.row }).first().click();
  else await input.press('Enter');
  await widget.waitFor({ state: 'hidden', timeout: 10_000 });
}

function toast(page: Page, text: string | RegExp): Locator {
  return page.locator('.notification-toast', { hasText: text });
}

/** The text of the editor holding `marker`, line by line as Monaco draws it. */
async function editorText(page: Page, marker: string): Promise<string> {
  type Line = { textContent: string | null; style: { top: string } };
  const lines = page.locator('.monaco-editor', { hasText: marker }).last().locator('.view-lines');
  return lines.evaluate((el: { querySelectorAll(s: string): ArrayLike<Line> }) =>
    Array.from(el.querySelectorAll('.view-line'))
      .map((l) => ({ top: parseFloat(l.style.top), text: (l.textContent ?? '').replace(/\u00a0/g, ' ') }))
      .sort((a, b) => a.top - b.top)
      .map((l) => l.text)
      .join('\n'),
  );
}

/** Points the panel's loss chart draws for a series (`<run> train`, `<run> val`). */
async function lossPoints(panel: FrameLocator, series: string): Promise<number> {
  const raw = await panel.locator('#loss-chart').getAttribute('data-points', { timeout: 1000 });
  return (JSON.parse(raw ?? '{}') as Record<string, number>)[series] ?? 0;
}

const runsDir = (ws: string) => join(ws, '.llm-lab', 'runs');
const readJson = <T>(file: string): T => JSON.parse(readFileSync(file, 'utf8')) as T;

/** The run folder made since `before` (a listing of the runs folder). */
async function newRun(page: Page, ws: string, before: string[]): Promise<string> {
  return until(page, 30_000, async () => readdirSync(runsDir(ws)).find((n) => !before.includes(n)), () => 'no run folder was made after Start Fine-tuning');
}

/** Asks the selected model `instruction` from the input box and waits for the editor to hold `expected`. */
async function askInEditor(page: Page, instruction: string, response: string): Promise<void> {
  await answer(page, 'LLM Lab: Ask the Model', { value: instruction });
  const want = `### Instruction\n${instruction}\n\n### Response\n${response}`;
  let seen = '';
  await until(page, 60_000, async () => ((seen = await editorText(page, instruction)) === want ? true : undefined),
    () => `the editor holds ${JSON.stringify(seen)}; expected ${JSON.stringify(want)}`);
  // The answer ended at <|endoftext|>: the request is over and its progress notification gone.
  await toast(page, 'LLM Lab: asking').waitFor({ state: 'hidden', timeout: 30_000 });
}

/** Answers the command's questions up to the summary; returns the summary dialog. */
async function startInstruct(page: Page, o: { base: { value?: string; row: string }; loss: string; lora?: { rank: number; alpha: number; off: string[] }; epochs: number }): Promise<Locator> {
  await runFromPalette(page, 'LLM Lab: Fine-tune on Instructions');
  await answer(page, `${TITLE}: instruction data`, { row: DATA });
  await answer(page, `${TITLE}: base model`, o.base);
  await answer(page, `${TITLE}: prompt style`, { row: 'alpaca' });
  await answer(page, `${TITLE}: loss`, { row: o.loss });
  if (o.lora) {
    await answer(page, `${TITLE}: what trains`, { row: 'LoRA adapters' });
    await answer(page, `${TITLE}: LoRA rank`, { value: String(o.lora.rank) });
    await answer(page, `${TITLE}: LoRA alpha`, { value: String(o.lora.alpha) });
    // Every layer starts ticked; untick these by their descriptions (the labels are one or two letters).
    const layers = quickInput(page, `${TITLE}: layers that get adapters`);
    await layers.waitFor({ state: 'visible', timeout: 30_000 });
    for (const off of o.lora.off) {
      const row = layers.locator('.quick-input-list .monaco-list-row', { hasText: off }).first();
      await row.click();
      let html = '';
      await until(page, 5000, async () => ((await row.getAttribute('aria-checked')) === 'false' ? true : undefined), () => `"${off}" stayed ticked`).catch(async (e) => {
        html = await row.evaluate((el: { outerHTML: string }) => el.outerHTML);
        throw new Error(`${(e as Error).message}: ${html}`);
      });
    }
    await layers.locator('input[type=text], input:not([type])').first().press('Enter');
    await layers.waitFor({ state: 'hidden', timeout: 10_000 });
  } else {
    await answer(page, `${TITLE}: what trains`, { row: 'All parameters' });
  }
  await answer(page, `${TITLE}: epochs`, { value: String(o.epochs) });
  const summary = page.locator('.monaco-dialog-box', { hasText: `on the instructions in ${DATA}` });
  await summary.waitFor({ timeout: 60_000 });
  return summary;
}

async function expectLines(box: Locator, lines: string[]): Promise<void> {
  const text = await box.innerText();
  for (const want of lines) if (!text.includes(want)) throw new Error(`the summary lacks "${want}": ${text}`);
}

/**
 * The instruction scenario in an open workbench whose workspace `ws` went through `prepareInstructions`.
 * Leaves the lab panel open on its Training tab.
 */
export async function instructScenario(page: Page, ws: string, records: InstructionRecord[]): Promise<string> {
  const panel = page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');
  const baseDir = join(runsDir(ws), BASE_RUN, 'checkpoints', `step-${String(BASE_STEPS).padStart(6, '0')}`);
  if (!(await panel.locator('#train-start').count())) {
    await step('open the panel with LLM Lab: Open Lab Panel', async () => {
      await runFromPalette(page, 'LLM Lab: Open Lab Panel');
      await panel.locator('#train-start').waitFor({ timeout: 30_000 });
    });
  }
  await panel.locator('[data-tab=training]').click();
  // tiny's width is 64, its MLP 256 wide, 2 blocks. A rank-r adapter on an n×m matrix adds r·(n + m) values:
  // q and v (64×64) 4·128 = 512 each, mlp-in (64×256) 4·320 = 1,280; 2,304 a block, 4,608 in all.
  const LORA = { rank: 4, alpha: 8, off: ['attention key', 'attention output projection', 'second MLP layer', 'the output head'] };
  const EPOCHS = 10; // 8 training records (85% of 10) and batch 8: one step an epoch
  const lora = await step('Fine-tune on Instructions with LoRA (rank 4, alpha 8, q, v and mlp-in) on the run that knows the records', async () => {
    const before = readdirSync(runsDir(ws));
    const summary = await startInstruct(page, { base: { row: BASE_RUN }, loss: 'Learn from the whole text', lora: LORA, epochs: EPOCHS });
    await expectLines(summary, [
      'Records: 10, prompts in the alpaca style', 'Split: 8 training · 1 validation · 1 test records',
      'Trains: LoRA rank 4 (alpha 8) on q, v, mlp-in — 4,608 of ', `${EPOCHS} epochs = ${EPOCHS} steps (1 an epoch)`,
    ]);
    await page.screenshot({ path: join(RESULTS, 'finetune-instruct-summary.png') });
    await summary.locator('.monaco-button', { hasText: 'Start Fine-tuning' }).click();
    return newRun(page, ws, before);
  });
  await step('the panel draws the run to its end and its test loss; the notification gives the steps', async () => {
    if (!lora.startsWith(`instruct-${BASE_RUN}-`)) throw new Error(`the run is named ${lora}; expected it to be named after its base, ${BASE_RUN}`);
    const counts: number[] = [];
    await until(page, 120_000, async () => {
      const n = await lossPoints(panel, `${lora} train`);
      if (n !== counts[counts.length - 1]) counts.push(n);
      return (await panel.locator('#train-state').textContent())?.startsWith(`completed (${lora})`) ? true : undefined;
    }, () => `the run did not complete; points seen ${JSON.stringify(counts)}`);
    await until(page, 10_000, async () => ((await lossPoints(panel, `${lora} train`)) === EPOCHS ? true : undefined), () => `expected ${EPOCHS} training loss points, saw ${JSON.stringify(counts)}`);
    const testLoss = panel.locator(`.test-run[data-run="${lora}"] [data-metric=loss] td`);
    await testLoss.waitFor({ timeout: 30_000 });
    if (!/^\d+\.\d{4}$/.test((await testLoss.textContent()) ?? '')) throw new Error(`test loss shows "${await testLoss.textContent()}"`);
    await toast(page, new RegExp(`Training ${lora} finished: ${EPOCHS} steps, loss \\d`)).waitFor({ timeout: 30_000 });
    await page.screenshot({ path: join(RESULTS, 'finetune-instruct-lora-panel.png') });
  });
  await step('the run saved an adapter naming its base and answered the test split into test-responses.json', async () => {
    const dir = join(runsDir(ws), lora);
    const meta = readJson<{ base: { model: string }; rank: number; alpha: number; promptStyle: string; sites: { site: string }[] }>(join(dir, 'checkpoints', 'step-000010', 'adapter.json'));
    if (meta.base.model !== baseDir) throw new Error(`adapter.json names the base ${meta.base.model}, not ${baseDir}`);
    if (meta.rank !== 4 || meta.alpha !== 8 || meta.promptStyle !== 'alpaca') throw new Error(`adapter.json: rank ${meta.rank}, alpha ${meta.alpha}, prompt style ${meta.promptStyle}`);
    if (meta.sites.length !== 6) throw new Error(`expected 6 adapted matrices (q, v and mlp-in in 2 blocks), got ${JSON.stringify(meta.sites)}`);
    if (existsSync(join(dir, 'checkpoints', 'step-000010', 'model.safetensors'))) throw new Error('the LoRA checkpoint holds a copy of the weights');
    // The split is in file order: 8 train, then the test record, then the validation one.
    const rows = readJson<unknown>(join(dir, 'test-responses.json'));
    const want = [{ ...records[8], model_response: records[8].output }];
    if (JSON.stringify(rows) !== JSON.stringify(want)) throw new Error(`test-responses.json holds ${JSON.stringify(rows)}; expected ${JSON.stringify(want)}`);
  });
  await step('Ask the Model from the notification: a record’s answer in a new editor', async () => {
    await toast(page, `Training ${lora} finished`).locator('.monaco-button', { hasText: 'Ask the Model' }).click();
    await askInEditor(page, records[0].instruction, records[0].output);
    await page.screenshot({ path: join(RESULTS, 'finetune-instruct-ask.png') });
  });
  await step('Select Model lists the adapter with its base', async () => {
    await runFromPalette(page, 'LLM Lab: Select Model');
    const picker = quickInput(page, 'LLM Lab: select the model to use');
    const row = picker.locator('.quick-input-list .monaco-list-row', { hasText: lora }).first();
    await row.waitFor({ timeout: 30_000 });
    const text = await row.innerText();
    const want = `(selected) instruction-tuned, LoRA adapter (rank 4) on .llm-lab/runs/${BASE_RUN}/checkpoints/step-000200`;
    if (!text.includes(want)) throw new Error(`the adapter's row reads "${text}"; expected "${want}"`);
    await page.screenshot({ path: join(RESULTS, 'finetune-instruct-select.png') });
    await page.keyboard.press('Escape');
    await picker.waitFor({ state: 'hidden', timeout: 10_000 });
  });
  await step('Merge LoRA Adapter writes a plain model beside the runs; selected, it answers the same', async () => {
    await runFromPalette(page, 'LLM Lab: Merge LoRA Adapter');
    await answer(page, 'LLM Lab: merge which LoRA adapter into its base?', { row: lora });
    const merged = toast(page, `Merged the adapter into a plain model: .llm-lab/runs/${lora}-merged.`);
    await merged.waitFor({ timeout: 60_000 });
    const dir = join(runsDir(ws), `${lora}-merged`);
    for (const f of ['config.json', 'model.safetensors']) if (!existsSync(join(dir, f))) throw new Error(`the merged model lacks ${f}`);
    if (existsSync(join(dir, 'adapter.json'))) throw new Error('the merged model is still an adapter');
    await merged.locator('.monaco-button', { hasText: 'Select Model' }).click();
    await toast(page, 'Selected model').waitFor({ timeout: 30_000 });
    await runFromPalette(page, 'LLM Lab: Ask the Model');
    await askInEditor(page, records[9].instruction, records[9].output);
    await page.screenshot({ path: join(RESULTS, 'finetune-instruct-merged-ask.png') });
  });
  await step('one editor column again, the panel in front', async () => {
    await runFromPalette(page, 'View: Single Column Editor Layout');
    await page.locator('.tabs-container .tab', { hasText: 'LLM Lab' }).click();
    await panel.locator('#train-state', { hasText: 'completed' }).waitFor({ timeout: 30_000 });
  });
  // Every weight of fresh tiny weights: 50,257·64 token and 64·64 position embeddings, 2 blocks of 49,984 (two
  // norms 256, qkv 64·192 + 192, projection 64·64 + 64, MLP 64·256 + 256 and 256·64 + 64), the final norm 128.
  const FULL_EPOCHS = 20;
  const full = await step('Fine-tune on Instructions, all parameters of fresh tiny weights, prompt masked', async () => {
    const before = readdirSync(runsDir(ws));
    const summary = await startInstruct(page, { base: { value: 'tiny', row: 'random weights' }, loss: 'Mask the prompt', epochs: FULL_EPOCHS });
    await expectLines(summary, ['Trains: every parameter — 3,320,640 of 3.3M parameters (100.0%)', `${FULL_EPOCHS} epochs = ${FULL_EPOCHS} steps`]);
    await summary.locator('.monaco-button', { hasText: 'Start Fine-tuning' }).click();
    return newRun(page, ws, before);
  });
  const stoppedAt = await step('LLM Lab: Stop Training stops it with a checkpoint', async () => {
    await until(page, 120_000, async () => ((await lossPoints(panel, `${full} train`)) >= 1 ? true : undefined), () => 'the run drew no point');
    await runFromPalette(page, 'LLM Lab: Stop Training');
    const stopped = toast(page, `Training ${full} stopped at step`);
    await stopped.waitFor({ timeout: 60_000 });
    const m = /stopped at step (\d+) \(checkpoint saved\)/.exec(await stopped.innerText());
    const k = Number(m?.[1]);
    if (!m || k < 1 || k >= FULL_EPOCHS) throw new Error(`the run stopped: ${await stopped.innerText()}`);
    if (!existsSync(join(runsDir(ws), full, 'checkpoints', `step-${String(k).padStart(6, '0')}`))) throw new Error(`no checkpoint of step ${k}`);
    if (existsSync(join(runsDir(ws), full, 'test-responses.json'))) throw new Error('a stopped run wrote test responses');
    // Done sliding in: its button can take a click.
    await stopped.locator('.monaco-button', { hasText: 'Resume Training' }).click({ trial: true });
    await page.screenshot({ path: join(RESULTS, 'finetune-instruct-stopped.png') });
    return k;
  });
  await step('Resume Training from the notification continues it to the end and answers the test split', async () => {
    await toast(page, `Training ${full} stopped at step`).locator('.monaco-button', { hasText: 'Resume Training' }).click();
    await toast(page, new RegExp(`Training ${full} finished: ${FULL_EPOCHS} steps`)).waitFor({ timeout: 180_000 });
    // One point a step: the resumed run went on from the checkpoint, neither again from the start nor skipping.
    await until(page, 10_000, async () => ((await lossPoints(panel, `${full} train`)) === FULL_EPOCHS ? true : undefined),
      () => `expected ${FULL_EPOCHS} training loss points after resuming at step ${stoppedAt}`);
    const rows = readJson<Array<InstructionRecord & { model_response: unknown }>>(join(runsDir(ws), full, 'test-responses.json'));
    if (rows.length !== 1 || rows[0].instruction !== records[8].instruction || typeof rows[0].model_response !== 'string') throw new Error(`test-responses.json: ${JSON.stringify(rows)}`);
    await page.screenshot({ path: join(RESULTS, 'finetune-instruct-resumed.png') });
  });
  return `LoRA run ${lora} answered the records; ${full} stopped at step ${stoppedAt} and resumed to ${FULL_EPOCHS}`;
}

async function main(): Promise<void> {
  const t0 = Date.now();
  let ws = '';
  let records: InstructionRecord[] = [];
  await withInstalledWorkbench(
    'finetune-instruct',
    async (page) => {
      const said = await instructScenario(page, ws, records);
      console.log(`Instruction fine-tuning UI test passed in ${((Date.now() - t0) / 1000).toFixed(0)} s: ${said}. Screenshots in test-results/.`);
    },
    async (dir) => {
      ws = dir;
      records = await step('make a model that knows ten records, with the CLI', async () => prepareInstructions(dir));
    },
  );
}

if (require.main === module) runUiTest(main);
