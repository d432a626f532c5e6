import * as assert from 'node:assert/strict';
import { choice, int, list, num, parseFlags } from '../../../src/cli/args';
import { LlmLabError } from '../../../src/cli/../core/errors';
import { compact, duration, thousands } from '../../../src/cli/format';
import { ProgressBar } from '../../../src/cli/progress';

function message(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof LlmLabError && e.code === 'bad-argument', String(e));
    return e.message;
  }
  assert.fail('expected an LlmLabError');
}

describe('CLI flags', () => {
  const specs = {
    steps: { type: 'string' as const, help: '' },
    data: { type: 'string' as const, multiple: true, help: '' },
    resume: { type: 'boolean' as const, help: '' },
  };

  it('parses values, repeated flags and positionals', () => {
    const r = parseFlags('x', specs, ['--steps', '5', '--data', 'a', '--data=b', '--resume', 'c'], true);
    assert.equal(int(r.values, 'steps', 1), 5);
    assert.deepEqual(list(r.values, 'data'), ['a', 'b']);
    assert.equal(r.values.resume, true);
    assert.deepEqual(r.positionals, ['c']);
  });

  it('names the unknown flag, the missing value and the stray word', () => {
    assert.match(message(() => parseFlags('x', specs, ['--stepz', '5'], false)), /Unknown flag --stepz for 'llm-lab x'/);
    assert.match(message(() => parseFlags('x', specs, ['--steps'], false)), /Flag --steps needs a value/);
    assert.match(message(() => parseFlags('x', specs, ['--resume=yes'], false)), /Flag --resume takes no value/);
    // A value that starts with '-' reads as a flag to parseArgs; the message says how to write it.
    assert.match(message(() => parseFlags('x', specs, ['--steps', '-1'], false)), /--steps needs a value.*--steps=VALUE/);
    assert.match(message(() => parseFlags('x', specs, ['oops'], false)), /Unexpected argument 'oops'/);
  });

  it('checks numbers and choices with the allowed range in the message', () => {
    const v = { n: '2.5', m: '-1', t: 'abc', k: '0.5', e: '', c: 'zzz' };
    assert.match(message(() => int(v, 'n', 1)), /--n must be a whole number ≥ 1, got '2.5'/);
    assert.match(message(() => int(v, 'm', 0, 10)), /from 0 to 10/);
    assert.match(message(() => num(v, 't', 0, 1)), /--t must be a number from 0 to 1, got 'abc'/);
    assert.match(message(() => num(v, 'e', 0, 1)), /--e must be a number/);
    assert.match(message(() => choice(v, 'c', ['a', 'b'])), /--c must be one of a, b; got 'zzz'/);
    assert.equal(num(v, 'k', 0, 1, true), 0.5);
    assert.equal(int(v, 'absent', 1), undefined);
    assert.match(message(() => num({ p: '0' }, 'p', 0, 1, true)), /above 0 up to 1/);
  });
});

describe('CLI output', () => {
  it('formats counts and durations', () => {
    assert.equal(thousands(124439808), '124,439,808');
    assert.equal(compact(124439808), '124.4M');
    assert.equal(compact(1.5e9), '1.50B');
    assert.equal(duration(12_300), '12.3s');
    assert.equal(duration(185_000), '3m05s');
    assert.equal(duration(3_720_000), '1h02m');
  });

  it('prints plain progress lines off a terminal, with an ETA from the pace', () => {
    let out = '';
    let t = 0;
    const bar = new ProgressBar({ sink: { write: (s) => void (out += s) }, isTTY: false, columns: 80, total: 100, every: 25, now: () => t });
    for (let step = 1; step <= 100; step++) {
      t = step * 1000; // one second a step
      bar.update(step, `loss ${(5 - step / 50).toFixed(2)}`);
    }
    const lines = out.trimEnd().split('\n');
    assert.deepEqual(lines.map((l) => l.trim().split(' ')[0]), ['1/100', '26/100', '51/100', '76/100', '100/100']);
    assert.match(lines[2], /ETA 49\.0s/);
    assert.ok(!out.includes('\r'));
  });

  it('redraws one line in place on a terminal and keeps messages above it', () => {
    let out = '';
    let t = 0;
    const bar = new ProgressBar({ sink: { write: (s) => void (out += s) }, isTTY: true, columns: 80, total: 10, now: () => t });
    for (let step = 1; step <= 10; step++) {
      t += 50; // redraws at most every 100 ms
      bar.update(step, 'x');
      if (step === 5) bar.message('eval');
    }
    bar.done();
    assert.equal((out.match(/\r\x1b\[2K/g) ?? []).length, 7); // draws at steps 1, 3, 5, 6, 8, 10 (last always) + 1 clear for the message
    assert.match(out, /\r\x1b\[2Keval\n/);
    assert.ok(out.endsWith('\n'));
    assert.match(out, /10\/10 \[=+\]/);
  });
});
