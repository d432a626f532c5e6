// A stand-in for the Hugging Face hub on 127.0.0.1, shaped like the real one: HEAD of a resolve URL answers a
// large file with a redirect carrying X-Linked-Size / X-Linked-Etag (its SHA-256) and a small one with 200, its
// size and its git blob id as ETag; GET of a large file redirects to a storage path that honours Range. Tests set
// faults: a connection dropped mid-file, a server that ignores Range, a wrong published checksum, slow bytes.
import { createHash } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface HubFile {
  bytes: Buffer;
  /** Stored with LFS (redirect + X-Linked headers) rather than in git. */
  lfs: boolean;
}

export interface HubFaults {
  /** The next this many GETs of file bytes close the connection after `dropAfter` bytes. */
  drops?: number;
  dropAfter?: number;
  /** Answer every GET with the whole file (200), as a server without Range support does. */
  ignoreRange?: boolean;
  /** Publish this SHA-256 instead of the true one. */
  publishSha256?: string;
  /** Publish this git blob id for a small file instead of the true one. */
  publishGitOid?: string;
  /** Publish no X-Linked headers on HEAD (the checksum is then only in the API's file list). */
  noLinkedHeaders?: boolean;
  /** Milliseconds between 16 KiB chunks of a body. */
  chunkDelayMs?: number;
}

export interface RequestRecord {
  method: string;
  url: string;
  range?: string;
}

export interface FakeHub {
  baseUrl: string;
  files: Map<string, HubFile>; // key: 'org/repo/file'
  faults: HubFaults;
  requests: RequestRecord[];
  close(): Promise<void>;
}

function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

export async function startFakeHub(): Promise<FakeHub> {
  const files = new Map<string, HubFile>();
  const faults: HubFaults = {};
  const requests: RequestRecord[] = [];
  let cdnOrigin = '';
  const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const url = new URL(req.url ?? '/', 'http://x');
    requests.push({ method: req.method ?? '', url: url.pathname, ...(req.headers.range ? { range: req.headers.range } : {}) });
    const resolve = /^\/(.+?\/.+?)\/resolve\/main\/(.+)$/.exec(url.pathname);
    const cdn = /^\/cdn\/(.+)$/.exec(url.pathname);
    const api = /^\/api\/models\/(.+?\/.+?)\/tree\/main$/.exec(url.pathname);
    if (api) {
      const list = [...files.entries()]
        .filter(([k]) => k.startsWith(api[1] + '/'))
        .map(([k, f]) => ({
          type: 'file',
          path: k.slice(api[1].length + 1),
          size: f.lfs ? 135 : f.bytes.length,
          oid: 'f'.repeat(40),
          ...(f.lfs ? { lfs: { oid: faults.publishSha256 ?? sha256(f.bytes), size: f.bytes.length, pointerSize: 135 } } : {}),
        }));
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(list));
      return;
    }
    const key = resolve ? `${resolve[1]}/${resolve[2]}` : cdn ? decodeURIComponent(cdn[1]) : undefined;
    const file = key ? files.get(key) : undefined;
    if (!key || !file) {
      res.writeHead(404).end('Entry not found');
      return;
    }
    if (resolve && file.lfs) {
      const headers: Record<string, string> = { location: `${cdnOrigin}/cdn/${encodeURIComponent(key)}`, etag: `"${sha256(file.bytes)}"` };
      if (!faults.noLinkedHeaders) {
        headers['x-linked-etag'] = `"${faults.publishSha256 ?? sha256(file.bytes)}"`;
        headers['x-linked-size'] = String(file.bytes.length);
      }
      res.writeHead(302, headers).end();
      return;
    }
    if (req.method === 'HEAD') {
      const oid = faults.publishGitOid ?? createHash('sha1').update(`blob ${file.bytes.length}\0`).update(file.bytes).digest('hex');
      res.writeHead(200, { 'content-length': String(file.bytes.length), etag: `"${oid}"` }).end();
      return;
    }
    let start = 0;
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (range && !faults.ignoreRange) {
      start = Number(range[1]);
      if (start >= file.bytes.length) {
        res.writeHead(416, { 'content-range': `bytes */${file.bytes.length}` }).end();
        return;
      }
      res.writeHead(206, { 'content-range': `bytes ${start}-${file.bytes.length - 1}/${file.bytes.length}`, 'content-length': String(file.bytes.length - start) });
    } else {
      res.writeHead(200, { 'content-length': String(file.bytes.length) });
    }
    const body = file.bytes.subarray(start);
    const drop = file.lfs && (faults.drops ?? 0) > 0;
    if (drop) faults.drops! -= 1;
    const limit = drop ? Math.min(body.length, faults.dropAfter ?? Math.floor(body.length / 2)) : body.length;
    let at = 0;
    const pump = (): void => {
      if (at >= limit) {
        if (!drop) res.end();
        return;
      }
      const n = Math.min(16384, limit - at);
      at += n;
      // A drop closes the socket once the bytes before it are handed to the kernel, so exactly `limit` arrive.
      const last = drop && at >= limit;
      res.write(body.subarray(at - n, at), () => {
        // A moment for the client to take the bytes in before the connection breaks.
        if (last) setTimeout(() => res.socket?.destroy(), 100);
      });
      if (last) return;
      if (faults.chunkDelayMs) setTimeout(pump, faults.chunkDelayMs);
      else setImmediate(pump);
    };
    pump();
  };
  // The hub and its storage server are two origins, as on the real hub (a redirect to another host).
  const listen = async (): Promise<http.Server> => {
    const server = http.createServer(handler);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return server;
  };
  const hub = await listen();
  const cdn = await listen();
  cdnOrigin = `http://127.0.0.1:${(cdn.address() as AddressInfo).port}`;
  const stop = (server: http.Server): Promise<void> =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return {
    baseUrl: `http://127.0.0.1:${(hub.address() as AddressInfo).port}`,
    files,
    faults,
    requests,
    close: async () => {
      await stop(hub);
      await stop(cdn);
    },
  };
}
