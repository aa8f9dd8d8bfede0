import http from 'node:http';
import https from 'node:https';
import { fileURLToPath } from 'node:url';
import { createReadStream } from 'node:fs';
import { AgentError } from '../core/errors.js';
import { appendStream, fsp, removePath, sha256File, statMaybe } from '../platform/fs.js';

/**
 * Package download (issue #6 §4): HTTP(S) with Range resume of a `.part` file, progress, a
 * size cap, `file://` for paths on the board. sha256 is checked by the caller on the complete
 * file (verifying state). Mender lesson (docs/reference/fleet-rollouts.md "Lessons from other updaters"): a download without a read
 * timeout hangs forever on network loss — every socket has an idle timeout.
 */
export interface DownloadOptions {
  readonly url: string;
  readonly dest: string;
  /** Exact expected size (manifest) — also the cap together with maxBytes. */
  readonly size: number;
  readonly maxBytes: number;
  readonly signal: AbortSignal;
  readonly idleTimeoutMs?: number;
  readonly onProgress?: (received: number, total: number) => void;
}

export interface DownloadResult {
  readonly bytes: number;
  /** Bytes that were already on disk from an interrupted attempt. */
  readonly resumedFrom: number;
}

function tooLarge(size: number, cap: number, url: string): AgentError {
  return new AgentError('DOWNLOAD_TOO_LARGE', `The package at ${url} is larger than allowed (${size} > ${cap} bytes).`, {
    hint: 'Check the manifest size; raise rollout.maxDownloadBytes for bigger models.',
  });
}

export async function download(o: DownloadOptions): Promise<DownloadResult> {
  const cap = Math.min(o.size, o.maxBytes);
  if (o.size > o.maxBytes) throw tooLarge(o.size, o.maxBytes, o.url);
  const existing = (await statMaybe(o.dest))?.size ?? 0;
  if (existing > cap) await removePath(o.dest);
  const start = existing > cap ? 0 : existing;
  if (start === cap) return { bytes: start, resumedFrom: start };
  if (o.url.startsWith('file://')) return copyLocal(o, cap, start);
  return httpGet(o, cap, start, 0);
}

async function copyLocal(o: DownloadOptions, cap: number, start: number): Promise<DownloadResult> {
  const src = fileURLToPath(o.url);
  const st = await statMaybe(src);
  if (!st?.isFile()) {
    throw new AgentError('DOWNLOAD_FAILED', `The package file ${src} does not exist on this device.`, { hint: 'Copy the package there first or use an http(s) URL.' });
  }
  if (st.size > cap) throw tooLarge(st.size, cap, o.url);
  const out = await appendStream(o.dest);
  let received = start;
  try {
    for await (const chunk of createReadStream(src, { start, signal: o.signal })) {
      const buf = chunk as Buffer;
      received += buf.length;
      if (!out.write(buf)) await new Promise<void>((r) => out.once('drain', () => r()));
      o.onProgress?.(received, cap);
    }
  } finally {
    await new Promise<void>((r) => out.end(r));
  }
  return { bytes: received, resumedFrom: start };
}

function httpGet(o: DownloadOptions, cap: number, start: number, redirects: number, url = o.url): Promise<DownloadResult> {
  return new Promise((resolve, reject) => {
    const lib = url.startsWith('https:') ? https : http;
    const headers: Record<string, string> = start > 0 ? { Range: `bytes=${start}-` } : {};
    const req = lib.get(url, { headers, signal: o.signal, timeout: o.idleTimeoutMs ?? 60000 }, (res) => {
      void (async () => {
        const status = res.statusCode ?? 0;
        if ([301, 302, 303, 307, 308].includes(status) && res.headers.location && redirects < 5) {
          res.resume();
          resolve(await httpGet(o, cap, start, redirects + 1, new URL(res.headers.location, url).toString()));
          return;
        }
        if (status !== 200 && status !== 206) {
          res.resume();
          throw new AgentError('DOWNLOAD_FAILED', `GET ${url} answered HTTP ${status}.`, { hint: 'Check that the package URL in the manifest is reachable from the device.' });
        }
        // 200 to a Range request: the server ignores ranges, start over.
        let received = status === 206 ? start : 0;
        if (status === 200 && start > 0) await fsp.truncate(o.dest, 0);
        const length = Number(res.headers['content-length'] ?? NaN);
        if (!Number.isNaN(length) && received + length > cap) {
          res.destroy();
          throw tooLarge(received + length, cap, url);
        }
        const out = await appendStream(o.dest);
        try {
          for await (const chunk of res) {
            const buf = chunk as Buffer;
            received += buf.length;
            if (received > cap) throw tooLarge(received, cap, url);
            if (!out.write(buf)) await new Promise<void>((r) => out.once('drain', () => r()));
            o.onProgress?.(received, cap);
          }
        } finally {
          await new Promise<void>((r) => out.end(r));
        }
        if (received < cap) {
          throw new AgentError('DOWNLOAD_FAILED', `GET ${url} ended after ${received} of ${cap} bytes.`, {
            hint: 'The connection dropped; the next attempt resumes from the partial file.',
          });
        }
        resolve({ bytes: received, resumedFrom: start });
      })().catch((err: unknown) => reject(wrap(err, url)));
    });
    req.on('timeout', () => req.destroy(new Error('no data for the idle timeout')));
    req.on('error', (err) => reject(wrap(err, url)));
  });
}

function wrap(err: unknown, url: string): AgentError {
  if (err instanceof AgentError) return err;
  if ((err as Error).name === 'AbortError') return new AgentError('CANCELED', `Download of ${url} was canceled.`, { cause: err });
  return new AgentError('DOWNLOAD_FAILED', `GET ${url} failed: ${(err as Error).message}.`, {
    hint: 'Check the network and the package URL; the next attempt resumes from the partial file.',
    cause: err,
  });
}

export { sha256File };
