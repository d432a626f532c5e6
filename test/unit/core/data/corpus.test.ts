import * as assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CancelledError, LlmLabError } from '../../../../src/core/errors';
import { loadCorpus } from '../../../../src/core/data';

describe('loadCorpus', () => {
  let dir: string;
  const huge = 2 * 1024 * 1024 + 10; // just over the default cap

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'llm-lab-corpus-'));
    writeFileSync(join(dir, 'b.txt'), 'Second file.\n');
    writeFileSync(join(dir, 'a.txt'), 'First file, plain English.\n');
    mkdirSync(join(dir, 'sub'));
    writeFileSync(join(dir, 'sub', 'notes.md'), '# Notes 😀\nMarkdown with an emoji.\n');
    writeFileSync(join(dir, 'sub', 'bom.txt'), '\ufeffStarts with a byte-order mark.');
    writeFileSync(join(dir, 'image.bin'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0x00, 0x01, 0x02]));
    writeFileSync(join(dir, 'latin1.txt'), Buffer.from('Caf\u00e9 cr\u00e8me', 'latin1'));
    writeFileSync(join(dir, 'huge.txt'), Buffer.alloc(huge, 'a'));
    writeFileSync(join(dir, 'empty.txt'), '');
    mkdirSync(join(dir, '.git'));
    writeFileSync(join(dir, '.git', 'HEAD'), 'ref: refs/heads/main\n');
    mkdirSync(join(dir, 'node_modules'));
    writeFileSync(join(dir, 'node_modules', 'dep.txt'), 'not part of the corpus');
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  function snapshot(): string {
    const walk = (d: string): string[] =>
      readdirSync(d, { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? walk(join(d, e.name)) : [`${join(d, e.name)} ${statSync(join(d, e.name)).mtimeMs} ${readFileSync(join(d, e.name)).toString('base64')}`],
      );
    return walk(dir).sort().join('\n');
  }

  it('reads a folder recursively in path order, skipping binary, oversized, non-UTF-8, empty and hidden files', async () => {
    const before = snapshot();
    const progress: Array<[number, number]> = [];
    const c = await loadCorpus([dir], { onProgress: (d, t) => progress.push([d, t]) });
    assert.deepEqual(
      c.files.map((f) => f.path),
      ['a.txt', 'b.txt', join('sub', 'bom.txt'), join('sub', 'notes.md')].map((p) => join(dir, p)),
    );
    assert.equal(c.files[0].bytes, Buffer.byteLength('First file, plain English.\n'));
    assert.equal(c.documents[2], 'Starts with a byte-order mark.'); // the BOM is not text
    assert.equal(c.text, c.documents.join('<|endoftext|>'));
    const reasons = Object.fromEntries(c.skipped.map((s) => [s.path.slice(dir.length + 1), s.reason]));
    assert.deepEqual(Object.keys(reasons).sort(), ['empty.txt', 'huge.txt', 'image.bin', 'latin1.txt']);
    assert.match(reasons['image.bin'], /binary/);
    assert.match(reasons['huge.txt'], /size cap/);
    assert.match(reasons['latin1.txt'], /UTF-8/);
    assert.match(reasons['empty.txt'], /empty/);
    assert.deepEqual(progress[progress.length - 1], [8, 8]);
    assert.equal(snapshot(), before, 'loading must not touch any file');
  });

  it('takes a larger file when the size cap is raised', async () => {
    const c = await loadCorpus(['huge.txt'], { cwd: dir, maxFileBytes: huge });
    assert.equal(c.documents[0].length, huge);
  });

  it('matches globs relative to cwd and reads a file named twice once', async () => {
    const c = await loadCorpus(['**/*.md', 'sub/notes.md', '*.txt'], { cwd: dir });
    assert.deepEqual(
      c.files.map((f) => f.path.slice(dir.length + 1)),
      [join('sub', 'notes.md'), 'a.txt', 'b.txt'],
    );
    assert.ok(c.skipped.some((s) => s.path.endsWith('huge.txt')));
  });

  it('reports patterns that match nothing, and fails when nothing matches at all', async () => {
    const c = await loadCorpus(['a.txt', 'missing.txt', 'nothing/*.txt'], { cwd: dir });
    assert.deepEqual(c.skipped.map((s) => [s.path, s.reason]), [
      ['missing.txt', 'no such file or folder'],
      ['nothing/*.txt', 'matched no files'],
    ]);
    await assert.rejects(loadCorpus(['*.pdf', 'nope'], { cwd: dir }), (e: unknown) => e instanceof LlmLabError && e.code === 'not-found' && /\*\.pdf/.test(e.message));
  });

  it('fails with bad-data when every matched file was skipped', async () => {
    await assert.rejects(
      loadCorpus(['image.bin', 'latin1.txt'], { cwd: dir }),
      (e: unknown) => e instanceof LlmLabError && e.code === 'bad-data' && /skipped/.test(e.message) && /UTF-8/.test(e.message),
    );
  });

  it('rejects bad arguments and stops when cancelled', async () => {
    await assert.rejects(loadCorpus([]), (e: unknown) => e instanceof LlmLabError && e.code === 'bad-argument');
    await assert.rejects(loadCorpus(['a.txt'], { cwd: dir, maxFileBytes: 0 }), LlmLabError);
    const ac = new AbortController();
    ac.abort();
    await assert.rejects(loadCorpus([dir], { signal: ac.signal }), CancelledError);
  });
});
