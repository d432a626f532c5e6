// Where an inline completion's time goes, in one process (no worker, no IPC): prompt building (tokenization),
// the prefill (the whole prompt through the model) and each decode step, in wall-clock and CPU time, with the
// model body and the output head timed apart. `node out/bench/profileComplete.js [tiny|small] [requests]`.
import { loadavg } from 'node:os';
import { initEngine, tf } from '../src/core/engine';
import { buildCompletionPrompt } from '../src/core/complete/context';
import { argmax } from '../src/core/generate/sampling';
import { PRESETS } from '../src/core/model/config';
import type { PresetName } from '../src/core/model/config';
import { GptModel } from '../src/core/model/gpt';
import { DecodeSession } from '../src/core/model/decodeSession';
import { KvCache } from '../src/core/model/kvCache';
import { getTokenizer } from '../src/core/tokenizer';
import { contexts } from './benchComplete';

const NEW_TOKENS = 16;

class Clock {
  wall = 0;
  cpu = 0;
  n = 0;
  private w0 = 0;
  private c0 = 0;
  start(): void {
    this.w0 = performance.now();
    const u = process.cpuUsage();
    this.c0 = u.user + u.system;
  }
  stop(): void {
    const u = process.cpuUsage();
    this.wall += performance.now() - this.w0;
    this.cpu += (u.user + u.system - this.c0) / 1000;
    this.n++;
  }
  line(name: string, per: number): string {
    return `${name.padEnd(22)} wall ${(this.wall / per).toFixed(2).padStart(7)} ms  cpu ${(this.cpu / per).toFixed(2).padStart(7)} ms`;
  }
}

async function main(): Promise<void> {
  const preset = (process.argv[2] ?? 'tiny') as PresetName;
  const requests = Number(process.argv[3] ?? 40);
  const fused = process.env.FUSED !== '0';
  await initEngine((process.env.LLM_LAB_BACKEND ?? 'native') as 'native');
  const model = GptModel.create({ ...PRESETS[preset], dropRate: 0 }, 1);
  const tok = getTokenizer('gpt2');
  const ctx = model.config.contextLength;
  const prompts = contexts(requests + 3);
  const clocks = { tokenize: new Clock(), prefillBody: new Clock(), prefillHead: new Clock(), stepBody: new Clock(), stepHead: new Clock(), read: new Clock(), total: new Clock() };
  const head = (h: tf.Tensor3D): tf.Tensor1D => tf.tidy(() => {
    const T = h.shape[1];
    const last = tf.slice(h, [0, T - 1, 0], [1, 1, h.shape[2]]) as tf.Tensor3D;
    return tf.reshape(model.lmHead(last), [-1]) as tf.Tensor1D;
  });
  for (let r = 0; r < prompts.length; r++) {
    const warm = r < 3;
    const run = async (): Promise<void> => {
      clocks.tokenize.start();
      const prompt = buildCompletionPrompt(tok, { prefix: prompts[r] }, { contextLength: ctx, maxNewTokens: NEW_TOKENS });
      clocks.tokenize.stop();
      if (fused) {
        const session = new DecodeSession(model);
        const all = [...prompt.ids];
        for (let s = 0; s <= NEW_TOKENS - 1; s++) {
          const clock = s === 0 ? clocks.prefillBody : clocks.stepBody;
          clock.start();
          const data = await session.logits(all);
          clock.stop();
          clocks.read.start();
          all.push(argmax(data));
          clocks.read.stop();
        }
        session.dispose();
        return;
      }
      const cache = new KvCache(model.config.nLayers);
      let ids = prompt.ids;
      for (let s = 0; s <= NEW_TOKENS - 1; s++) {
        const body = s === 0 ? clocks.prefillBody : clocks.stepBody;
        const hc = s === 0 ? clocks.prefillHead : clocks.stepHead;
        body.start();
        const x = tf.tensor2d(ids, [1, ids.length], 'int32');
        const { hidden } = model.hidden(x, { cache });
        x.dispose();
        body.stop();
        hc.start();
        const logits = head(hidden);
        hidden.dispose();
        hc.stop();
        clocks.read.start();
        const data = (await logits.data()) as Float32Array;
        logits.dispose();
        ids = [argmax(data)];
        clocks.read.stop();
      }
      cache.dispose();
    };
    if (warm) {
      const saved = JSON.stringify(clocks);
      await run();
      for (const [k, v] of Object.entries(JSON.parse(saved) as Record<string, Clock>)) Object.assign(clocks[k as keyof typeof clocks], v);
      continue;
    }
    clocks.total.start();
    await run();
    clocks.total.stop();
  }
  console.log(`${preset} (${fused ? 'fused: prefill and step include the head' : 'tensor ops'}): ${requests} requests, load ${loadavg().map((l) => l.toFixed(2)).join(' ')}, tensors ${tf.memory().numTensors}`);
  console.log(clocks.total.line('total / request', requests));
  console.log(clocks.tokenize.line('tokenize / request', requests));
  console.log(clocks.prefillBody.line('prefill body', requests));
  console.log(clocks.prefillHead.line('prefill head (1 row)', requests));
  console.log(clocks.stepBody.line('step body x15', requests));
  console.log(clocks.stepHead.line('step head x15', requests));
  console.log(clocks.read.line('read+argmax x16', requests));
}

void main();
