// Benchmark of the lab panel's curves in Chromium: feeds runs of many thousand steps to the real bundle
// and reports how long one chart redraw takes as the runs grow (redraws are batched to at most four a
// second, so a redraw well under 250 ms keeps the panel responsive). `npm run bench:panel`.
import type { PageWindow } from '../test/webview/harness';
import { launch, openPanel, startServer } from '../test/webview/harness';

async function main(): Promise<void> {
  const runs = ['run-a', 'run-b', 'run-c'];
  const perBatch = 2000;
  const total = Number(process.env.BENCH_STEPS ?? 20_000);
  const { server, origin } = await startServer();
  const browser = await launch();
  try {
    const p = await openPanel(browser, origin);
    console.log(`steps per run  points drawn  redraw ms`);
    for (let from = 1; from <= total; from += perBatch) {
      const batch = [];
      for (let n = from; n < from + perBatch; n++) {
        for (const runId of runs) {
          batch.push({ type: 'train/didReportStep', body: { runId, step: n, totalSteps: total, loss: 10 / (1 + n / 300), lr: 3e-4, tokensSeen: n * 1024, tokensPerSec: 5000 } });
        }
      }
      await p.postAll(batch);
      const want = `"${runs[2]} train":${from + perBatch - 1}`;
      await p.page.waitForFunction((w) => (globalThis as unknown as PageWindow).document.querySelector('#loss-chart')?.dataset.points?.includes(w), want, { timeout: 60_000 });
      const ms = await p.page.getAttribute('#loss-chart', 'data-draw-ms');
      const steps = from + perBatch - 1;
      console.log(`${String(steps).padStart(14)}  ${String(steps * runs.length).padStart(12)}  ${String(ms).padStart(9)}`);
    }
  } finally {
    await browser.close();
    server.close();
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : String(e));
  process.exit(1);
});
