import * as assert from 'node:assert/strict';
import { CompletionCache } from '../../../../src/extension/completion/cache';
import { CompletionStats } from '../../../../src/extension/completion/stats';
import { completionModelDir, modelLabel } from '../../../../src/extension/completion/modelChoice';

const key = (prefix: string, suffix = '', settings = 's') => ({ prefix, suffix, settings });

describe('inline completion cache', () => {
  it('hits on the same context and misses on another', () => {
    const c = new CompletionCache();
    c.set(key('def add(a, b):\n    return'), ' a + b');
    assert.equal(c.get(key('def add(a, b):\n    return')), ' a + b');
    assert.equal(c.get(key('def add(a, b):\n    retur')), undefined);
    assert.equal(c.get(key('def add(a, b):\n    return', ')')), undefined, 'another suffix');
    assert.equal(c.get(key('def add(a, b):\n    return', '', 'other model')), undefined, 'other settings');
  });

  it("serves the rest of a suggestion whose first characters were typed", () => {
    const c = new CompletionCache();
    c.set(key('x ='), ' foo(1)');
    assert.equal(c.get(key('x = g')), undefined, 'typed text that is not the suggestion');
    assert.equal(c.get(key('x = f')), 'oo(1)');
    assert.equal(c.get(key('x = ')), 'foo(1)');
    assert.equal(c.get(key('x = foo(')), '1)');
    // Typing all of it leaves nothing to serve from this entry.
    assert.equal(c.get(key('x = foo(1)')), undefined);
  });

  it('remembers that the model had nothing to say, for that exact context only', () => {
    const c = new CompletionCache();
    c.set(key('abc'), '');
    assert.equal(c.get(key('abc')), '');
    assert.equal(c.get(key('abcd')), undefined);
  });

  it('compares the last tailChars characters of a long prefix', () => {
    const c = new CompletionCache(10, 5);
    c.set(key('0123456789'), 'XY');
    // Only "56789" is remembered: another start with the same end hits; typed-through works across the tail.
    assert.equal(c.get(key('zzzzz56789')), 'XY');
    assert.equal(c.get(key('0123456789X')), 'Y');
    // A short prefix is remembered whole: a longer one with the same end is another context.
    c.set(key('789'), 'Q');
    assert.equal(c.get(key('6789')), undefined);
  });

  it('drops the least recently used entry first', () => {
    const c = new CompletionCache(2);
    c.set(key('a'), '1');
    c.set(key('b'), '2');
    assert.equal(c.get(key('a')), '1'); // a is now the most recent
    c.set(key('c'), '3');
    assert.equal(c.size, 2);
    assert.equal(c.get(key('b')), undefined);
    assert.equal(c.get(key('a')), '1');
    assert.equal(c.get(key('c')), '3');
  });
});

describe('inline completion statistics', () => {
  it('reports requests, cache hits and the median latency', () => {
    const s = new CompletionStats(4);
    assert.equal(s.medianMs, undefined);
    assert.equal(s.summary(), '0 requests answered, 0 cache hits, median latency —');
    for (const ms of [30, 10, 20]) s.answered(ms);
    s.cacheHits = 1;
    assert.equal(s.medianMs, 20);
    s.answered(100); // 10 20 30 100 → (20 + 30) / 2
    assert.equal(s.medianMs, 25);
    s.answered(40); // the window of 4 drops the oldest (30): 10 20 40 100 → (20 + 40) / 2
    assert.equal(s.medianMs, 30);
    assert.equal(s.summary(), '5 requests answered, 1 cache hit, median latency 30 ms');
  });
});

describe('inline completion model choice', () => {
  it('takes the setting (absolute or workspace-relative), else the selected model', () => {
    assert.equal(completionModelDir('', '/ws', '/sel'), '/sel');
    assert.equal(completionModelDir('  ', '/ws', undefined), undefined);
    assert.equal(completionModelDir('/abs/run', '/ws', '/sel'), '/abs/run');
    assert.equal(completionModelDir('.llm-lab/runs/r', '/ws', '/sel'), '/ws/.llm-lab/runs/r');
    assert.equal(completionModelDir('runs/r', undefined, '/sel'), undefined);
  });

  it('names a checkpoint by its run and step', () => {
    assert.equal(modelLabel('/ws/.llm-lab/runs/tiny-1/checkpoints/step-000120'), 'tiny-1 (step 120)');
    assert.equal(modelLabel('/models/gpt2'), 'gpt2');
  });
});
