import * as assert from 'node:assert/strict';
import { cursorIndent, cutAtStop } from '../../../../src/core/complete';
import type { StopRules } from '../../../../src/core/complete';

const line: StopRules = { mode: 'line', maxLines: 1, indent: '' };
const block = (indent: string, maxLines = 10): StopRules => ({ mode: 'block', maxLines, indent });

describe('completion stop rules', () => {
  it('takes the cursor line indentation', () => {
    assert.equal(cursorIndent('def f():\n    x = 1\n    ret'), '    ');
    assert.equal(cursorIndent('\tif (a) {'), '\t');
    assert.equal(cursorIndent('top'), '');
  });

  it('single-line mode stops at the end of the line', () => {
    assert.deepEqual(cutAtStop('foo(a, b)', line), { text: 'foo(a, b)' });
    assert.deepEqual(cutAtStop('foo(a, b);  \nbar()', line), { text: 'foo(a, b);', stop: 'newline' });
    assert.deepEqual(cutAtStop('\nbar()', line), { text: '', stop: 'newline' });
    assert.deepEqual(cutAtStop('x = 1   ', line, true), { text: 'x = 1' });
  });

  it('multi-line mode stops at a blank line once it is whole', () => {
    assert.deepEqual(cutAtStop('a()\n  b()\n', block('  ')), { text: 'a()\n  b()\n' });
    assert.deepEqual(cutAtStop('a()\n  b()\n   ', block('  ')), { text: 'a()\n  b()\n   ' });
    assert.deepEqual(cutAtStop('a()\n  b()\n\n  c()', block('  ')), { text: 'a()\n  b()', stop: 'blank-line' });
    assert.deepEqual(cutAtStop('a()\n  b()\n \t\n', block('  ')), { text: 'a()\n  b()', stop: 'blank-line' });
  });

  it('multi-line mode stops at a line indented less than the cursor line', () => {
    // Cursor line indented 4: a line at 2 ends it as soon as its first character shows.
    assert.deepEqual(cutAtStop('x = 1\n    y = 2\n  r', block('    ')), { text: 'x = 1\n    y = 2', stop: 'dedent' });
    // The same indentation, or deeper, goes on.
    assert.equal(cutAtStop('x = 1\n    y = 2\n        z', block('    ')).stop, undefined);
    // A tab is 4 columns: "\t" is not less than four spaces.
    assert.equal(cutAtStop('x\n\ty', block('    ')).stop, undefined);
    assert.equal(cutAtStop('x\n  }', block('\t')).stop, 'dedent');
  });

  it('multi-line mode stops after maxLines lines', () => {
    assert.deepEqual(cutAtStop('a\nb\nc\nd', block('', 3)), { text: 'a\nb\nc', stop: 'max-lines' });
    assert.deepEqual(cutAtStop('a\nb\nc', block('', 3)), { text: 'a\nb\nc' });
  });

  it('trims trailing whitespace when generation ended', () => {
    assert.deepEqual(cutAtStop('a\n  b\n', block('  '), true), { text: 'a\n  b' });
  });
});
