import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CancelledError, LlmLabError } from '../../../../src/core/errors';
import { downloadModel, hubBaseUrl, listDownloadedModels, modelCacheDir, partialPath } from '../../../../src/core/hub';
import type { FakeHub } from './fakeHub';
import { startFakeHub } from './fakeHub';

const REPO = 'openai-community/gpt2';
// A config.json the hub could serve: GPT-2's fields for a very small model.
const CONFIG = Buffer.from(
  JSON.stringify({ model_type: 'gpt2', architectures: ['GPT2LMHeadModel'], vocab_size: 50257, n_positions: 16, n_embd: 8, n_head: 2, n_layer: 1 }),
);

async function exists(p: string): Promise<boolean> {
  return fsp.stat(p).then(
    () => true,
    () => false,
  );
}

async function rejects(p: Promise<unknown>, code: string, message: RegExp): Promise<LlmLabError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof LlmLabError, `an LlmLabError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    assert.match(e.message, message);
    return e;
  }
  assert.fail('expected a rejection');
}

describe('GPT-2 download from a hub', () => {
  let hub: FakeHub;
  let tmp: string;
  let weights: Buffer;
  let env: Record<string, string>;

  beforeEach(async () => {
    hub = await startFakeHub();
    tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'llm-lab-hub-'));
    weights = randomBytes(300_000);
    hub.files.set(`${REPO}/config.json`, { bytes: CONFIG, lfs: false });
    hub.files.set(`${REPO}/model.safetensors`, { bytes: weights, lfs: true });
    env = { XDG_CACHE_HOME: path.join(tmp, 'cache'), HF_ENDPOINT: hub.baseUrl };
  });
  afterEach(async () => {
    await hub.close();
    await fsp.rm(tmp, { recursive: true, force: true });
  });

  const gets = () => hub.requests.filter((r) => r.method === 'GET' && r.url.startsWith('/cdn/'));

  it('puts both files, verified, into the cache under XDG_CACHE_HOME, from the hub that HF_ENDPOINT names', async () => {
    const r = await downloadModel('gpt2', { env });
    const dir = path.join(tmp, 'cache', 'llm-lab', 'models', 'gpt2');
    assert.equal(r.dir, dir);
    assert.deepEqual(await fsp.readFile(path.join(dir, 'model.safetensors')), weights);
    assert.deepEqual(await fsp.readFile(path.join(dir, 'config.json')), CONFIG);
    assert.deepEqual(
      r.files.map((f) => [f.name, f.verified, f.bytes]),
      [
        ['config.json', 'git-oid', CONFIG.length],
        ['model.safetensors', 'sha256', weights.length],
      ],
    );
    assert.equal(await exists(partialPath(path.join(dir, 'model.safetensors'))), false);
    assert.deepEqual(await listDownloadedModels(modelCacheDir(env)), [{ name: 'gpt2', dir }]);
  });

  it('checks a small file against the git blob id that `git hash-object` computes', async () => {
    // The fake hub publishes sha1("blob <n>\0" + bytes); git itself must agree, or the check is checking nothing.
    const fromGit = execFileSync('git', ['hash-object', '--stdin'], { input: CONFIG }).toString().trim();
    const head = await fetch(`${hub.baseUrl}/${REPO}/resolve/main/config.json`, { method: 'HEAD' });
    assert.equal(head.headers.get('etag'), `"${fromGit}"`);
    const r = await downloadModel('gpt2', { env });
    assert.equal(r.files[0].verified, 'git-oid');
  });

  it('refuses a small file whose git blob id differs from the published one', async () => {
    hub.faults.publishGitOid = 'b'.repeat(40);
    const to = path.join(tmp, 'm');
    await rejects(downloadModel('gpt2', { env, to }), 'bad-data', /config\.json does not match.*git blob id is [0-9a-f]{40} where the server published b{40}/);
    assert.equal(await exists(path.join(to, 'config.json')), false);
  });

  // A client may lose the last bytes that arrived just before the connection broke (a stream that errors drops
  // what it had queued), so the kept part is at most what the server sent, and the resume starts at exactly it.
  it('keeps the partial file when the connection drops, and the next download resumes it with a Range request', async () => {
    hub.faults.drops = 1;
    hub.faults.dropAfter = 100_000;
    const to = path.join(tmp, 'm');
    const e = await rejects(downloadModel('gpt2', { env, to, retries: 0 }), 'network', /stopped after \d+ of 300000 bytes.*run the same download again to resume/);
    const kept = (await fsp.stat(partialPath(path.join(to, 'model.safetensors')))).size;
    assert.ok(kept <= 100_000, `kept ${kept}`);
    assert.match(e.message, new RegExp(`stopped after ${kept} of`));
    assert.deepEqual(await fsp.readFile(partialPath(path.join(to, 'model.safetensors'))), weights.subarray(0, kept));
    assert.equal(await exists(path.join(to, 'model.safetensors')), false, 'nothing incomplete is put in place');

    const r = await downloadModel('gpt2', { env, to, retries: 0 });
    assert.deepEqual(gets().map((g) => g.range), [undefined, kept > 0 ? `bytes=${kept}-` : undefined]);
    assert.equal(r.files[1].resumedFrom, kept);
    assert.equal(r.files[0].alreadyThere, true);
    assert.deepEqual(await fsp.readFile(path.join(to, 'model.safetensors')), weights);
  });

  it('retries a dropped connection by itself, resuming each time from what it kept', async () => {
    hub.faults.drops = 2;
    hub.faults.dropAfter = 70_000;
    const to = path.join(tmp, 'm');
    await downloadModel('gpt2', { env, to, retries: 3, retryDelayMs: 5 });
    const ranges = gets().map((g) => g.range);
    assert.equal(ranges.length, 3, JSON.stringify(ranges));
    assert.equal(ranges[0], undefined);
    // Each resume starts where the kept bytes end (no Range when nothing was kept).
    const first = Number(/^bytes=(\d+)-$/.exec(ranges[1] ?? '')?.[1] ?? 0);
    const second = Number(/^bytes=(\d+)-$/.exec(ranges[2] ?? '')?.[1] ?? 0);
    assert.ok(first <= 70_000 && second >= first && second <= first + 70_000, JSON.stringify(ranges));
    assert.deepEqual(await fsp.readFile(path.join(to, 'model.safetensors')), weights);
  });

  it('starts over cleanly when the server ignores Range', async () => {
    hub.faults.drops = 1;
    hub.faults.dropAfter = 100_000;
    const to = path.join(tmp, 'm');
    await rejects(downloadModel('gpt2', { env, to, retries: 0 }), 'network', /stopped after/);
    hub.faults.ignoreRange = true;
    await downloadModel('gpt2', { env, to, retries: 0 });
    const kept = Number(/^bytes=(\d+)-$/.exec(gets()[1].range ?? '')?.[1] ?? 0);
    assert.ok(kept <= 100_000, `resumed at ${kept}`);
    assert.deepEqual(await fsp.readFile(path.join(to, 'model.safetensors')), weights, 'the whole body replaced the part, not appended to it');
  });

  it('refuses a file whose SHA-256 differs from the published one, and leaves nothing behind', async () => {
    hub.faults.publishSha256 = createHash('sha256').update('something else').digest('hex');
    const to = path.join(tmp, 'm');
    await rejects(downloadModel('gpt2', { env, to }), 'bad-data', /model\.safetensors does not match.*SHA-256 is [0-9a-f]{64} where the server published/);
    assert.equal(await exists(path.join(to, 'model.safetensors')), false);
    assert.equal(await exists(partialPath(path.join(to, 'model.safetensors'))), false);
  });

  it('takes the checksum from the hub API when HEAD publishes none', async () => {
    hub.faults.noLinkedHeaders = true;
    hub.faults.publishSha256 = 'a'.repeat(64);
    await rejects(downloadModel('gpt2', { env }), 'bad-data', /server published a{64}/);
    hub.faults.publishSha256 = undefined;
    const r = await downloadModel('gpt2', { env });
    assert.equal(r.files[1].verified, 'sha256');
    assert.ok(hub.requests.some((q) => q.url === `/api/models/${REPO}/tree/main`));
  });

  it('says which model was not found (404)', async () => {
    await rejects(downloadModel('gpt2-medium', { env }), 'not-found', /gpt2-medium\/resolve\/main\/config\.json was not found \(HTTP 404\)/);
  });

  it('refuses a model name it does not know and an address that is not http(s)', async () => {
    await rejects(downloadModel('gpt3', { env }), 'bad-argument', /no GPT-2 model 'gpt3'.*gpt2, gpt2-medium, gpt2-large, gpt2-xl/);
    await rejects(downloadModel('gpt2', { env, baseUrl: 'ftp://mirror' }), 'bad-argument', /must start with https:\/\//);
  });

  it('stops on cancel keeping the partial file, and the next download finishes it', async () => {
    hub.faults.chunkDelayMs = 20;
    const to = path.join(tmp, 'm');
    const ac = new AbortController();
    const p = downloadModel('gpt2', {
      env,
      to,
      signal: ac.signal,
      onProgress: (pr) => {
        if (pr.file === 'model.safetensors' && pr.bytes >= 32_768) ac.abort();
      },
    });
    await assert.rejects(p, (e) => e instanceof CancelledError && /partial file .* is kept/.test(e.message));
    const kept = (await fsp.stat(partialPath(path.join(to, 'model.safetensors')))).size;
    assert.ok(kept >= 32_768 && kept < weights.length, `kept ${kept}`);
    hub.faults.chunkDelayMs = 0;
    const r = await downloadModel('gpt2', { env, to });
    assert.equal(r.files[1].resumedFrom, kept);
    assert.deepEqual(await fsp.readFile(path.join(to, 'model.safetensors')), weights);
  });

  it('skips files already downloaded and verified: no byte is fetched again', async () => {
    await downloadModel('gpt2', { env });
    const before = gets().length;
    const r = await downloadModel('gpt2', { env });
    assert.equal(gets().length, before);
    assert.deepEqual(
      r.files.map((f) => f.alreadyThere),
      [true, true],
    );
  });

  it('never overwrites a file it did not download', async () => {
    const to = path.join(tmp, 'mine');
    await fsp.mkdir(to);
    await fsp.writeFile(path.join(to, 'config.json'), 'my own notes');
    await rejects(downloadModel('gpt2', { env, to }), 'bad-argument', /config\.json is already there and was not downloaded by LLM Lab/);
    assert.equal(await fsp.readFile(path.join(to, 'config.json'), 'utf8'), 'my own notes');
  });

  it('refuses and removes a config.json that is not a GPT-2 config (a mirror’s error page)', async () => {
    hub.files.set(`${REPO}/config.json`, { bytes: Buffer.from('<html>rate limited</html>'), lfs: false });
    const to = path.join(tmp, 'm');
    await rejects(downloadModel('gpt2', { env, to }), 'bad-data', /is not a GPT-2 config\.json/);
    assert.equal(await exists(path.join(to, 'config.json')), false);
  });

  it('refuses a second download into the same folder while the first runs, and takes over a lock left by a dead process', async () => {
    const to = path.join(tmp, 'm');
    await fsp.mkdir(to);
    await fsp.writeFile(path.join(to, '.llm-lab-download.lock'), String(process.ppid)); // a live process
    await rejects(downloadModel('gpt2', { env, to }), 'busy', new RegExp(`Another download into .* is running \\(pid ${process.ppid}\\)`));
    await fsp.writeFile(path.join(to, '.llm-lab-download.lock'), '2147483646'); // no such process
    await downloadModel('gpt2', { env, to });
    assert.equal(await exists(path.join(to, '.llm-lab-download.lock')), false);
  });

  it('reads the hub address from HF_ENDPOINT and the cache from XDG_CACHE_HOME, with the usual defaults', () => {
    assert.equal(hubBaseUrl(undefined, {}), 'https://huggingface.co');
    assert.equal(hubBaseUrl(undefined, { HF_ENDPOINT: 'https://mirror.example/' }), 'https://mirror.example');
    assert.equal(hubBaseUrl('http://127.0.0.1:9/', { HF_ENDPOINT: 'https://mirror.example' }), 'http://127.0.0.1:9');
    assert.equal(modelCacheDir({ XDG_CACHE_HOME: '/c' }), path.join('/c', 'llm-lab', 'models'));
    assert.equal(modelCacheDir({}), path.join(os.homedir(), '.cache', 'llm-lab', 'models'));
    assert.equal(modelCacheDir({ XDG_CACHE_HOME: 'relative' }), path.join(os.homedir(), '.cache', 'llm-lab', 'models'), 'XDG paths must be absolute');
  });
});
