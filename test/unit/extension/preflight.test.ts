// Pre-run checks and the token hover's helpers.
import * as assert from 'node:assert/strict';
import { estimateMemory, PRESETS } from '../../../src/core/model/config';
import { memoryCheck, minimumTokens } from '../../../src/extension/preflight';
import { hexBytes, spanAt, visibleText } from '../../../src/extension/tokens/tokenText';

describe('pre-run checks', () => {
  it('lets a run fit when its estimate is within 80% of the machine, not beyond', () => {
    const need = estimateMemory(PRESETS.small, 4).trainingBytes;
    assert.deepEqual(memoryCheck(PRESETS.small, 4, need / 0.8), { needed: need, fits: true });
    assert.equal(memoryCheck(PRESETS.small, 4, need / 0.8 - 1024).fits, false);
    assert.ok(memoryCheck(PRESETS.small, 8, 1e15).needed > need, 'a bigger batch must need more');
  });

  it('needs one more token than the context', () => {
    assert.equal(minimumTokens(64), 65);
  });
});

describe('token hover helpers', () => {
  const spans = [
    { start: 0, end: 5 },
    { start: 5, end: 6 },
    { start: 6, end: 6 }, // an empty span (leading bytes of a split character)
    { start: 6, end: 9 },
  ];

  it('finds the token under an offset, and none past the end', () => {
    assert.equal(spanAt(spans, 0), 0);
    assert.equal(spanAt(spans, 4), 0);
    assert.equal(spanAt(spans, 5), 1);
    assert.equal(spanAt(spans, 6), 3);
    assert.equal(spanAt(spans, 8), 3);
    assert.equal(spanAt(spans, 9), -1);
    assert.equal(spanAt([], 0), -1);
  });

  it('shows spaces and control characters visibly, and bytes as hex', () => {
    assert.equal(visibleText(' tea\n'), '"·tea\\n"');
    assert.equal(hexBytes([0x20, 0x74, 0xff, 0]), '20 74 ff 00');
  });
});
