// .ci/run with npm played by a fake: it installs, runs npm test, and ends with its one summary line and npm
// test's exit status, also when a suite failed.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(__dirname, '..', '..', '..', '..');

describe('.ci/run', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'llm-lab-ci-'));
    mkdirSync(join(dir, '.ci'));
    mkdirSync(join(dir, 'bin'));
    copyFileSync(join(root, '.ci', 'run'), join(dir, '.ci', 'run'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const ci = (testOutput: string, testStatus: number) => {
    const npm = `#!/bin/sh\necho "npm $*" >> "${join(dir, 'npm.log')}"\nif [ "$1" = test ]; then printf '${testOutput}'; exit ${testStatus}; fi\n`;
    writeFileSync(join(dir, 'bin', 'npm'), npm);
    chmodSync(join(dir, 'bin', 'npm'), 0o755);
    return spawnSync('bash', [join(dir, '.ci', 'run')], { encoding: 'utf8', env: { PATH: `${join(dir, 'bin')}:/usr/bin:/bin` } });
  };

  it('sums every suite into one line and exits 0 when all pass', () => {
    const r = ci('  12 passing (3s)\\n  1 pending\\n\\n  7 passing (9s)\\n', 0);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /\nci: 19 passed, 0 failed, 1 skipped; npm test exited 0\n$/);
  });

  it('still prints the line when a suite fails, and fails with npm test', () => {
    const r = ci('  12 passing (3s)\\n  2 failing\\n', 1);
    assert.equal(r.status, 1);
    assert.match(r.stdout, /\nci: 12 passed, 2 failed, 0 skipped; npm test exited 1\n$/);
  });
});
