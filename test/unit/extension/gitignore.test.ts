// The .gitignore matcher against what git does on the same rules (worked out by hand from gitignore(5)).
import * as assert from 'node:assert/strict';
import { GitignoreRules } from '../../../src/extension/gitignore';

function rules(text: string, base = ''): GitignoreRules {
  const r = new GitignoreRules();
  r.add(base, text);
  return r;
}

describe('gitignore matcher', () => {
  it('matches a bare name at any depth, and everything inside an ignored folder', () => {
    const r = rules('# build output\nbuild\n\n*.log\n');
    assert.equal(r.ignores('build/a.txt'), true);
    assert.equal(r.ignores('src/build/a.txt'), true);
    assert.equal(r.ignores('src/rebuild/a.txt'), false);
    assert.equal(r.ignores('deep/x/debug.log'), true);
    assert.equal(r.ignores('debug.log.txt'), false);
  });

  it('anchors patterns with a leading or middle slash', () => {
    const r = rules('/top.txt\ndocs/*.md\n');
    assert.equal(r.ignores('top.txt'), true);
    assert.equal(r.ignores('sub/top.txt'), false);
    assert.equal(r.ignores('docs/a.md'), true);
    assert.equal(r.ignores('docs/deep/a.md'), false, '* does not cross a slash');
    assert.equal(r.ignores('x/docs/a.md'), false);
  });

  it('applies a trailing slash to folders only', () => {
    const r = rules('data/\n');
    assert.equal(r.ignores('data/file.txt'), true);
    assert.equal(r.ignores('data'), false, 'a file named data is not a folder');
    assert.equal(r.ignores('data', true), true);
  });

  it('handles ** in all three positions', () => {
    const r = rules('**/cache\nlogs/**\na/**/z.txt\n');
    assert.equal(r.ignores('x/y/cache/f'), true);
    assert.equal(r.ignores('logs/2026/01.txt'), true);
    assert.equal(r.ignores('a/z.txt'), true);
    assert.equal(r.ignores('a/b/c/z.txt'), true);
    assert.equal(r.ignores('b/a/z.txt'), false);
  });

  it('re-includes with ! (last match wins), but not inside an ignored folder', () => {
    const r = rules('*.txt\n!keep.txt\nsecret/\n!secret/ok.txt\n');
    assert.equal(r.ignores('a.txt'), true);
    assert.equal(r.ignores('keep.txt'), false);
    assert.equal(r.ignores('secret/ok.txt'), true);
  });

  it('scopes a nested .gitignore to its folder, where it overrides the root', () => {
    const r = new GitignoreRules();
    r.add('pkg', '!notes.md\nlocal.txt\n');
    r.add('', '*.md\n');
    assert.equal(r.ignores('notes.md'), true);
    assert.equal(r.ignores('pkg/notes.md'), false);
    assert.equal(r.ignores('pkg/local.txt'), true);
    assert.equal(r.ignores('local.txt'), false);
  });

  it('supports ? and character classes, and escapes regex characters', () => {
    const r = rules('file?.txt\n[ab]*.csv\nv1.0+(x)\n');
    assert.equal(r.ignores('file1.txt'), true);
    assert.equal(r.ignores('file12.txt'), false);
    assert.equal(r.ignores('a1.csv'), true);
    assert.equal(r.ignores('c1.csv'), false);
    assert.equal(r.ignores('v1.0+(x)'), true);
    assert.equal(r.ignores('v1x0+(x)'), false);
  });
});
