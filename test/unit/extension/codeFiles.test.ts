import * as assert from 'node:assert/strict';
import { countCodeFiles, isCodeFile } from '../../../src/extension/codeFiles';

describe('code files', () => {
  it('tells source code from prose by the extension, in any case', () => {
    for (const f of ['/w/src/a.ts', 'b.PY', 'lib/c.rs', 'x.test.tsx', 'Main.java']) assert.equal(isCodeFile(f), true, f);
    for (const f of ['notes.md', 'the-verdict.txt', 'Makefile', 'data.json', '.ts']) assert.equal(isCodeFile(f), false, f);
  });

  it('counts the code files of a corpus', () => {
    assert.equal(countCodeFiles(['a.ts', 'b.md', 'c.go', 'd.txt']), 2);
  });
});
