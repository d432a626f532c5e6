import * as assert from 'node:assert/strict';
import { fitToSuffix, repeatsSuffix, trimDuplicatedSuffix } from '../../../../src/core/complete';

describe('completion and the text after the cursor', () => {
  it('drops a suggestion that only repeats what follows the cursor', () => {
    assert.equal(repeatsSuffix(')', ');'), true);
    assert.equal(repeatsSuffix('return x;', '\n    return x;\n}'), true);
    assert.equal(repeatsSuffix('   ', 'x'), true);
    assert.equal(repeatsSuffix('a + b', ')'), false);
    assert.equal(fitToSuffix(');', ');\n'), '');
  });

  it('trims the end that the text after the cursor already holds', () => {
    assert.equal(trimDuplicatedSuffix('a, b)', ')'), 'a, b');
    assert.equal(trimDuplicatedSuffix('a, b);', ');'), 'a, b');
    assert.equal(trimDuplicatedSuffix('x = 1\n}', '\n}\n'), 'x = 1');
    // Whitespace alone is not a duplicate worth trimming, and a suffix it does not end with stays.
    assert.equal(trimDuplicatedSuffix('a ', ' b'), 'a ');
    assert.equal(trimDuplicatedSuffix('a, b', ')'), 'a, b');
    assert.equal(fitToSuffix('a, b)', ')'), 'a, b');
    assert.equal(fitToSuffix('hello', ''), 'hello');
  });
});
