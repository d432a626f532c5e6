import * as assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCli } from '../../../src/cli/app';
import { captureIo } from '../../../src/cli/io';
import { saveModel } from '../../../src/core/checkpoint';
import { initEngine } from '../../../src/core/engine';
import { makeConfig } from '../../../src/core/model/config';
import { GptModel } from '../../../src/core/model/gpt';
import { formatExample, formatPrompt } from '../../../src/core/instruct';
import { getTokenizer } from '../../../src/core/tokenizer';

async function cli(args: string[]) {
  const io = captureIo();
  const code = await runCli(args, io);
  return { code, out: io.out(), err: io.err() };
}

describe('llm-lab ask', () => {
  const config = makeConfig('tiny', { contextLength: 64, embDim: 32, nHeads: 2, nLayers: 1 });
  let tmp: string;

  before(async () => {
    await initEngine('cpu');
    tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'llm-lab-ask-'));
    const model = GptModel.create(config, 5);
    await saveModel(path.join(tmp, 'alpaca'), model);
    await saveModel(path.join(tmp, 'phi3'), model, { promptStyle: 'phi3' });
    model.dispose();
  });
  after(async () => {
    await fsp.rm(tmp, { recursive: true, force: true });
  });

  it('continues the prompt in the model’s recorded style from the response header, greedily', async () => {
    const instruction = 'Name a colour.';
    const prompts = {
      alpaca: `Below is an instruction that describes a task. Write a response that appropriately completes the request.\n\n### Instruction:\n${instruction}\n\n### Response:\n`,
      phi3: `<|user|>\n${instruction}\n<|assistant|>:\n`,
    };
    for (const style of ['alpaca', 'phi3'] as const) {
      const a = await cli(['ask', '--model', path.join(tmp, style), '--instruction', instruction, '--max-new-tokens', '6', '--json']);
      assert.equal(a.code, 0, a.err);
      const j = JSON.parse(a.out);
      assert.equal(j.promptStyle, style);
      // The same model continuing the formatted prompt greedily gives the same text.
      const g = await cli(['generate', '--model', path.join(tmp, style), '--prompt', prompts[style], '--temperature', '0', '--max-new-tokens', '6', '--json']);
      assert.equal(j.response, JSON.parse(g.out).text.trim());
      assert.ok(j.tokens > 0 && j.tokens <= 6);
    }
  });

  it('eval --task instruct prints loss, perplexity and the targets counted', async () => {
    const data = path.join(tmp, 'data.jsonl');
    const recs = [
      { instruction: 'Name a colour.', input: '', output: 'Blue.' },
      { instruction: 'Add the numbers.', input: '2 and 3', output: '5' },
    ];
    await fsp.writeFile(data, recs.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const r = await cli(['eval', '--model', path.join(tmp, 'phi3'), '--data', data, '--task', 'instruct', '--json']);
    assert.equal(r.code, 0, r.err);
    const j = JSON.parse(r.out);
    const tok = getTokenizer('gpt2');
    // Each record's tokens plus <|endoftext|>, shifted by one: as many targets as the record has tokens.
    assert.equal(j.tokens, recs.reduce((n, rec) => n + tok.encode(formatExample('phi3', rec)).length, 0));
    assert.equal(j.promptStyle, 'phi3');
    assert.ok(j.loss > 0 && Math.abs(j.perplexity - Math.exp(j.loss)) < 1e-6 * j.perplexity);
    const masked = JSON.parse((await cli(['eval', '--model', path.join(tmp, 'phi3'), '--data', data, '--task', 'instruct', '--mask-prompt', '--json'])).out);
    const promptTargets = recs.reduce((n, rec) => n + tok.encode(formatPrompt('phi3', rec)).length - 1, 0);
    assert.equal(masked.tokens, j.tokens - promptTargets);
    const bad = await cli(['eval', '--model', path.join(tmp, 'phi3'), '--data', path.join(tmp, 'data.jsonl'), '--task', 'poetry']);
    assert.match(bad.err, /--task must be one of text, instruct/);
  });

  it('needs an instruction and a known prompt style', async () => {
    const r = await cli(['ask', '--model', path.join(tmp, 'alpaca')]);
    assert.equal(r.code, 1);
    assert.match(r.err, /needs --instruction/);
    const s = await cli(['ask', '--model', path.join(tmp, 'alpaca'), '--instruction', 'x', '--prompt-style', 'chatml']);
    assert.equal(s.code, 1);
    assert.match(s.err, /--prompt-style must be one of alpaca, phi3/);
  });
});
