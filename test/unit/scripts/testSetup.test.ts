// npm test's first step on a machine that lacks system packages, played with a fake dpkg-query (and a fake
// apt-get) on a PATH of their own: it installs what is missing when it can, and otherwise stops before
// anything runs with one message naming the packages and the command that installs them.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(__dirname, '..', '..', '..', '..');
const ALL = ['g++', 'make', 'python3', 'chromium', 'ripgrep', 'libkrb5-dev', 'g++-aarch64-linux-gnu', 'qemu-user'];

describe('npm test set-up (scripts/testSetup.mjs)', () => {
  let bin: string;
  let state: string;
  let aptLog: string;

  beforeEach(() => {
    bin = mkdtempSync(join(tmpdir(), 'llm-lab-setup-'));
    state = join(bin, 'installed');
    aptLog = join(bin, 'apt.log');
    // dpkg-query -W -f=${Status} PKG: installed when PKG is a line of the state file.
    writeFileSync(join(bin, 'dpkg-query'), `#!/bin/sh\nPATH=/usr/bin:/bin\nfor p; do last="$p"; done\nif grep -qxF -- "$last" "${state}"; then printf 'install ok installed'; else exit 1; fi\n`);
    chmodSync(join(bin, 'dpkg-query'), 0o755);
    // Only node itself beside the fakes: the machine's own apt-get must never be reached.
    symlinkSync(process.execPath, join(bin, 'node'));
  });
  afterEach(() => rmSync(bin, { recursive: true, force: true }));

  const fakeApt = (works: boolean) => {
    const body = works
      ? `echo "$@" >> "${aptLog}"\nif [ "$1" = install ]; then shift 3; for p; do echo "$p" >> "${state}"; done; fi\n`
      : `echo "$@" >> "${aptLog}"\nexit 100\n`;
    writeFileSync(join(bin, 'apt-get'), `#!/bin/sh\nPATH=/usr/bin:/bin\n${body}`);
    chmodSync(join(bin, 'apt-get'), 0o755);
  };
  const setup = () =>
    spawnSync(process.execPath, [join(root, 'scripts', 'testSetup.mjs')], {
      cwd: root,
      encoding: 'utf8',
      env: { PATH: bin, HOME: bin },
    });

  it('does nothing when every package is there', () => {
    writeFileSync(state, ALL.join('\n') + '\n');
    const r = setup();
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout + r.stderr, '');
  });

  it('without apt-get, stops with one message naming what is missing and the command, before anything runs', () => {
    writeFileSync(state, ALL.filter((p) => p !== 'chromium' && p !== 'ripgrep').join('\n') + '\n');
    const r = setup();
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^npm test needs these system packages, which this machine lacks:\n {2}chromium +the lab panel's tests and the UI tests\n {2}ripgrep +code-server's install/);
    assert.match(r.stderr, /apt-get install -y chromium ripgrep/);
    assert.equal(r.stdout, '');
  });

  const root_ = process.getuid?.() === 0;

  it(root_ ? 'as root with apt-get, installs exactly the missing packages and goes on' : 'as a user with apt-get, gives the sudo command and installs nothing', () => {
    fakeApt(true);
    writeFileSync(state, ALL.filter((p) => p !== 'chromium' && p !== 'libkrb5-dev').join('\n') + '\n');
    const r = setup();
    if (root_) {
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /installing the Debian packages the tests need: chromium libkrb5-dev/);
      assert.deepEqual(readFileSync(aptLog, 'utf8').trim().split('\n'), ['update -qq', 'install -y -qq chromium libkrb5-dev']);
    } else {
      assert.equal(r.status, 1);
      assert.match(r.stderr, /\n {2}sudo apt-get install -y chromium libkrb5-dev\n$/);
      assert.ok(!existsSync(aptLog), 'apt-get ran without root');
    }
  });

  it('when apt-get cannot install, says so with the command to run', function () {
    if (!root_) this.skip(); // only root runs apt-get; the test above covers a user
    fakeApt(false);
    writeFileSync(state, ALL.filter((p) => p !== 'g++').join('\n') + '\n');
    const r = setup();
    assert.equal(r.status, 1);
    assert.match(r.stderr, /apt-get could not install g\+\+\. Install them yourself, then run npm test again:\n {2}apt-get install -y g\+\+/);
  });
});
