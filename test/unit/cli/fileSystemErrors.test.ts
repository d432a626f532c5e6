// File-system failures a user causes (an --out that is a file or lies below one, a read-only folder) are user
// errors: one line naming the path and why, exit 1; and the worker reports them to the extension the same way.
import * as assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileSystemError } from '../../../src/core/errors';
import { toWireError } from '../../../src/worker/server';

const root = path.resolve(__dirname, '../../../..');
const cliJs = path.join(root, 'dist', 'cli.js');

describe('file-system errors are user errors', function () {
  this.timeout(120_000);
  let tmp: string;
  before(async () => {
    execFileSync(process.execPath, ['esbuild.mjs'], { cwd: root, stdio: 'pipe' });
    tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'llm-lab-fserr-'));
    await fsp.writeFile(path.join(tmp, 'notes.txt'), 'my notes\n');
  });
  after(async () => {
    await fsp.chmod(path.join(tmp), 0o700).catch(() => undefined);
    await fsp.rm(tmp, { recursive: true, force: true });
  });

  function pretrainInto(out: string) {
    const args = ['pretrain', '--data', 'samples/the-verdict.txt', '--out', out, '--steps', '1', '--context', '8', '--width', '16', '--heads', '1', '--layers', '1'];
    return spawnSync(process.execPath, [cliJs, ...args], { cwd: root, encoding: 'utf8', timeout: 90_000 });
  }

  function assertUserError(r: { status: number | null; stderr: string }, mentions: RegExp): void {
    assert.equal(r.status, 1, r.stderr);
    const last = r.stderr.trimEnd().split('\n').pop()!;
    assert.match(last, /^llm-lab: Could not /);
    assert.match(last, mentions);
    assert.doesNotMatch(r.stderr, /internal error|\n\s+at /);
  }

  it('--out naming an existing file', async () => {
    const file = path.join(tmp, 'notes.txt');
    const r = pretrainInto(file);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr.trim().split('\n').pop()!, new RegExp(`^llm-lab: ${file.replace(/[.]/g, '\\.')} is a file, not a folder; choose a new or empty folder for the run\\.$`));
    assert.equal(await fsp.readFile(file, 'utf8'), 'my notes\n', 'the file is untouched');
  });

  it('--out below a file', () => {
    assertUserError(pretrainInto(path.join(tmp, 'notes.txt', 'run')), /a part of the path is a file, not a folder \(ENOTDIR\)/);
  });

  it('--out in a read-only folder', async function () {
    // The superuser writes through permission bits, so this case needs an ordinary user.
    if (process.getuid?.() === 0) this.skip();
    const ro = path.join(tmp, 'readonly');
    await fsp.mkdir(ro);
    await fsp.chmod(ro, 0o555);
    assertUserError(pretrainInto(path.join(ro, 'run')), /permission denied \(EACCES\)/);
  });

  it('the worker sends them as io errors with the same message', () => {
    const e = Object.assign(new Error("EROFS: read-only file system, open '/mnt/ro/run/run.json'"), { code: 'EROFS', syscall: 'open', path: '/mnt/ro/run/run.json' });
    assert.deepEqual(toWireError(e), {
      code: 'io',
      message: 'Could not open /mnt/ro/run/run.json: the file system is read-only (EROFS). Check the path and its permissions, or choose another location.',
    });
    assert.equal(fileSystemError(new Error('plain')), undefined);
    assert.equal(toWireError(new Error('plain')).code, 'internal');
  });
});
