// Test infrastructure: a real VS Code (code-server, VS Code's own server and web client) installed into
// the git-ignored .tools/ folder and reused, started on loopback in its own process group with fresh
// profile folders, and stopped with its whole group. See ../shared VSCODE-TESTING notes: code-server
// 4.100.3 is the newest that installs on Node 20; its ripgrep download is fed from Debian's rg.
import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const CODE_SERVER_VERSION = '4.100.3';
export const ROOT = resolve(__dirname, '..', '..');
const TOOLS = join(ROOT, '.tools', 'code-server');

export function codeServerBin(): string {
  return join(TOOLS, 'node_modules', 'code-server', 'out', 'node', 'entry.js');
}

/** Installs code-server into .tools/code-server unless the right version is already there. */
export function ensureCodeServer(log: (s: string) => void = console.log): string {
  // Written only after a complete install (postinstall included), so a broken half-install is redone.
  const marker = join(TOOLS, `.installed-${CODE_SERVER_VERSION}`);
  if (existsSync(marker) && existsSync(codeServerBin())) return codeServerBin();
  const rg = '/usr/bin/rg';
  if (!existsSync(rg)) throw new Error('ripgrep is missing: apt-get install -y ripgrep (code-server needs it; npm test installs it when it runs as root).');
  // @vscode/ripgrep looks for this tarball before downloading; give it Debian's rg.
  const cacheDir = join(process.env.TMPDIR ?? tmpdir(), 'vscode-ripgrep-cache-1.15.11');
  mkdirSync(cacheDir, { recursive: true });
  const tarball = join(cacheDir, 'ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz');
  if (!existsSync(tarball)) execFileSync('tar', ['-czf', tarball, '-C', '/usr/bin', 'rg']);
  mkdirSync(TOOLS, { recursive: true });
  log(`Installing code-server@${CODE_SERVER_VERSION} into ${TOOLS} (about 90 s, once)...`);
  // npm 11 blocks dependency install scripts unless allowed; code-server's postinstall (which runs nested
  // npm installs of its native addons) is the point of this install, so allow them for this folder only.
  // npm_config_yes: node-pty's postinstall runs `npx node-gyp`, which would otherwise wait for a TTY.
  // npm_config_unsafe_perm: code-server's postinstall refuses to run as root without it (CI runs as root).
  execFileSync('npm', ['install', '--prefix', TOOLS, '--no-save', '--no-audit', '--no-fund', `code-server@${CODE_SERVER_VERSION}`], {
    stdio: 'inherit',
    env: {
      ...process.env,
      npm_config_yes: 'true',
      npm_config_unsafe_perm: 'true',
      npm_config_dangerously_allow_all_scripts: 'true',
    },
  });
  const rgBin = join(TOOLS, 'node_modules', 'code-server', 'lib', 'vscode', 'node_modules', '@vscode', 'ripgrep', 'bin', 'rg');
  if (!existsSync(codeServerBin()) || !existsSync(rgBin)) throw new Error(`code-server did not install completely into ${TOOLS}; see the npm output above.`);
  writeFileSync(marker, new Date().toISOString() + '\n');
  return codeServerBin();
}

/** Copies the fixture workspace (test/integration/fixture) to a fresh temp folder. */
export function freshWorkspace(): string {
  const ws = mkdtempSync(join(tmpdir(), 'llmlab-ws-'));
  cpSync(join(ROOT, 'test', 'integration', 'fixture'), ws, { recursive: true });
  // Binary and sample files are made here rather than committed.
  cpSync(join(ROOT, 'samples', 'the-verdict.txt'), join(ws, 'corpus', 'the-verdict.txt'));
  return ws;
}

/** Sets workspace settings in `ws`/.vscode/settings.json, keeping the ones already there (the fixture's). */
export function writeWorkspaceSettings(ws: string, settings: Record<string, unknown>): void {
  const file = join(ws, '.vscode', 'settings.json');
  const before = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>) : {};
  mkdirSync(join(ws, '.vscode'), { recursive: true });
  writeFileSync(file, JSON.stringify({ ...before, ...settings }, null, 2));
}

/** Builds the .vsix with vsce (no dependencies: esbuild bundled them) into `outDir`. */
export function packageVsix(outDir: string): string {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string };
  const out = join(outDir, `${pkg.name}-${pkg.version}.vsix`);
  execFileSync(process.execPath, [join(ROOT, 'node_modules', '@vscode', 'vsce', 'vsce'), 'package', '--no-dependencies', '--skip-license', '--allow-missing-repository', '-o', out], {
    cwd: ROOT,
    stdio: 'pipe',
  });
  return out;
}

/** The files an extension's output channel was logged to (VS Code writes them under the profile's logs/). */
export function outputChannelLogs(userDataDir: string, channel: string): { file: string; text: string }[] {
  const found: { file: string; text: string }[] = [];
  const walk = (dir: string, depth: number): void => {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const n of names) {
      const p = join(dir, n);
      if (n.endsWith(`${channel}.log`)) found.push({ file: p, text: readFileSync(p, 'utf8') });
      else if (depth < 6 && statSync(p).isDirectory()) walk(p, depth + 1);
    }
  };
  walk(join(userDataDir, 'logs'), 0);
  return found;
}

export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? res(addr.port) : rej(new Error('no port'))));
    });
  });
}

export interface CodeServer {
  url: string;
  port: number;
  home: string;
  userDataDir: string;
  extensionsDir: string;
  proc: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

/** Runs `code-server --install-extension` into an extensions folder. */
export function installExtension(vsix: string, extensionsDir: string, userDataDir: string): void {
  execFileSync(process.execPath, [codeServerBin(), '--extensions-dir', extensionsDir, '--user-data-dir', userDataDir, '--install-extension', vsix], {
    stdio: 'pipe',
    encoding: 'utf8',
  });
}

/** Starts code-server on loopback with fresh profile dirs; resolves once /healthz answers. */
export async function startCodeServer(opts: {
  workspace: string;
  extensionsDir?: string;
  home?: string;
  settings?: Record<string, unknown>;
  /** Extra environment, seen by the extension host too. */
  env?: Record<string, string>;
}): Promise<CodeServer> {
  const bin = ensureCodeServer();
  const home = opts.home ?? mkdtempSync(join(tmpdir(), 'llmlab-cs-'));
  const userDataDir = join(home, 'user-data');
  const extensionsDir = opts.extensionsDir ?? join(home, 'extensions');
  mkdirSync(join(userDataDir, 'User'), { recursive: true });
  mkdirSync(extensionsDir, { recursive: true });
  const settings = { 'workbench.startupEditor': 'none', 'security.workspace.trust.enabled': false, 'telemetry.telemetryLevel': 'off', ...opts.settings };
  writeFileSync(join(userDataDir, 'User', 'settings.json'), JSON.stringify(settings, null, 2));
  const port = await freePort();
  const args = [bin, '--bind-addr', `127.0.0.1:${port}`, '--auth', 'none', '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust',
    '--user-data-dir', userDataDir, '--extensions-dir', extensionsDir, opts.workspace];
  const env = { ...process.env, ...opts.env, HOME: home, XDG_CONFIG_HOME: join(home, 'config'), XDG_DATA_HOME: join(home, 'data'), XDG_CACHE_HOME: join(home, 'cache') };
  const proc = spawn(process.execPath, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env });
  let out = '';
  proc.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`code-server exited (code ${proc.exitCode}):\n${out}`);
    try {
      const r = await fetch(`${url}/healthz`);
      if (r.ok) break;
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline) throw new Error(`code-server did not answer /healthz within 60 s:\n${out}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  const stop = async () => {
    if (proc.exitCode === null && proc.pid) {
      try {
        process.kill(-proc.pid, 'SIGTERM');
      } catch {
        /* already gone */
      }
      await Promise.race([new Promise((r) => proc.once('exit', r)), new Promise((r) => setTimeout(r, 3000))]);
      try {
        process.kill(-proc.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    if (!opts.home) rmSync(home, { recursive: true, force: true });
  };
  return { url, port, home, userDataDir, extensionsDir, proc, output: () => out, stop };
}

if (require.main === module) {
  ensureCodeServer();
}
