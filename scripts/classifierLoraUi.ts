// The LoRA part of the fine-tuning UI test, in a workbench whose workspace holds spam.tsv: LLM Lab: Fine-tune
// Classifier with LoRA adapters (the tiny preset's fresh weights, rank 4, every layer), answering the quick picks
// as a person would; the summary counts the adapters, the run saves adapter folders instead of whole models, and
// Classify Selection classifies a line of the file with the finished run (the selected model). Screenshots go to
// test-results/finetune-lora-*.png.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { FrameLocator, Page } from 'playwright-core';
import { quickOpen, RESULTS, runFromPalette, step } from './browser';
import { answerQuickInput, until } from './panelUiTest';

// The tiny preset (64 wide, 2 blocks, MLP 256) at rank 4 on every layer, by hand: per block q, k, v 3·4·(64+64),
// attn-out 4·128, mlp-in and mlp-out 4·(64+256) each; the new head's adapter 4·(64+2).
const LORA_TRAINED = 2 * (3 * 512 + 512 + 1280 + 1280) + 4 * 66;

export async function loraClassifierScenario(page: Page, panel: FrameLocator, ws: string): Promise<void> {
  await step('Fine-tune Classifier with LoRA adapters (tiny, rank 4, every layer): the summary counts them', async () => {
    await runFromPalette(page, 'LLM Lab: Fine-tune Classifier');
    await answerQuickInput(page, 'fine-tune a classifier: labelled data', { row: 'spam.tsv' });
    await answerQuickInput(page, 'fine-tune a classifier: base model', { value: 'tiny', row: 'random weights' });
    await answerQuickInput(page, 'what trains', { row: 'LoRA adapters' });
    await answerQuickInput(page, 'LoRA rank', { value: '4' });
    await answerQuickInput(page, 'LoRA alpha', { value: '4' });
    await answerQuickInput(page, 'layers that get adapters', {}); // the default: all of them
    await answerQuickInput(page, 'epochs', { value: '1' });
    const summary = page.locator('.monaco-dialog-box', { hasText: 'LoRA rank 4' });
    await summary.waitFor({ timeout: 60_000 });
    const text = await summary.innerText();
    const want = `Trains: LoRA rank 4 (alpha 4) on q, k, v, attn-out, mlp-in, mlp-out, head — ${LORA_TRAINED.toLocaleString('en-US')} of `;
    if (!text.includes(want)) throw new Error(`the summary lacks "${want}": ${text}`);
    await page.screenshot({ path: join(RESULTS, 'finetune-lora-summary.png') });
    await summary.locator('.monaco-button', { hasText: 'Start Fine-tuning' }).click();
  });
  await step('the LoRA run finishes with adapter folders as its checkpoints', async () => {
    const done = async (): Promise<true | undefined> => ((await panel.locator('#train-state').textContent())?.startsWith('completed (classify-tiny') ? true : undefined);
    await until(page, 180_000, done, () => 'the LoRA run did not complete');
    await page.screenshot({ path: join(RESULTS, 'finetune-lora-panel.png') });
    const runs = join(ws, '.llm-lab', 'runs');
    const run = readdirSync(runs).find((n) => n.startsWith('classify-tiny'));
    const last = join(runs, run ?? '?', 'checkpoints', 'step-000035');
    if (!existsSync(join(last, 'adapter.json')) || existsSync(join(last, 'model.safetensors'))) throw new Error(`${last} is not an adapter folder`);
  });
  await step('Classify Selection classifies a line with the LoRA classifier', async () => {
    await quickOpen(page, 'spam.tsv', 'win a free prize now');
    await runFromPalette(page, 'LLM Lab: Classify Selection');
    const toast = page.locator('.notification-toast', { hasText: /step-000035: “(ham|spam)” \(\d+\.\d%\)\. ham \d+\.\d% · spam \d+\.\d%/ });
    await toast.waitFor({ timeout: 60_000 });
    await page.screenshot({ path: join(RESULTS, 'finetune-lora-classify.png') });
  });
}
