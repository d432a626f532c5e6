// The Data tab's sliding windows from a real GPT-2 token stream: targets are the inputs shifted by one,
// windows start every `stride` tokens, and the panel accepts the message.
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildDataPreview } from '../../../../src/extension/panel/dataPreview';
import { getTokenizer } from '../../../../src/core/tokenizer';
import { parseToPanel, toPanel } from '../../../../src/protocol/panel';

const root = join(__dirname, '..', '..', '..', '..', '..');

describe('buildDataPreview', () => {
  const tok = getTokenizer('gpt2');
  const text = readFileSync(join(root, 'samples', 'the-verdict.txt'), 'utf8').slice(0, 2000);
  const ids = Int32Array.from(tok.encode(text));

  it('shows windows from the offset, each target the input shifted one token ahead, with token text', () => {
    const p = buildDataPreview(ids, tok, { maxLength: 4, stride: 3, offset: 2, count: 3 }, 'the-verdict.txt');
    assert.equal(p.source, 'the-verdict.txt');
    assert.equal(p.totalTokens, ids.length);
    assert.equal(p.totalWindows, Math.floor((ids.length - 5) / 3) + 1);
    assert.deepEqual(p.windows.map((w) => w.index), [2, 3, 4]);
    for (const w of p.windows) {
      assert.deepEqual(w.inputIds, Array.from(ids.subarray(w.index * 3, w.index * 3 + 4)));
      assert.deepEqual(w.targetIds.slice(0, 3), w.inputIds.slice(1));
      assert.equal(w.targetIds[3], ids[w.index * 3 + 4]);
      assert.equal(w.inputTokens.join(''), tok.decode(w.inputIds));
    }
    assert.ok(parseToPanel(toPanel('data/didPreview', { ...p, requestId: 'd' })).ok);
  });

  it('stops at the last window and explains an offset past it or too little data', () => {
    const p = buildDataPreview(ids, tok, { maxLength: 8, stride: 8, offset: 0, count: 64 });
    assert.equal(p.windows.length, Math.min(64, p.totalWindows));
    assert.throws(() => buildDataPreview(ids, tok, { maxLength: 8, stride: 8, offset: p.totalWindows, count: 1 }), /There are \d+ windows; choose a first window below/);
    assert.throws(() => buildDataPreview(ids.subarray(0, 4), tok, { maxLength: 8, stride: 1, offset: 0, count: 1 }), /too few for one window of 8/);
  });
});
