import { createReadStream, createWriteStream, promises as fsp, type ReadStream, type WriteStream } from 'node:fs';

/**
 * Partial reads and streams (platform is the only OS seam, docs/reference/design-rules.md "Layout and imports"). Kept apart from
 * fs.ts so features that stream large model files do not grow that file.
 */

/** The first `n` bytes of a file (fewer when the file is shorter). */
export async function readHead(file: string, n: number): Promise<Buffer> {
  const fh = await fsp.open(file, 'r');
  try {
    const buf = Buffer.alloc(n);
    const { bytesRead } = await fh.read(buf, 0, n, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/** `length` bytes starting at `start` (fewer at the end of the file). */
export async function readRange(file: string, start: number, length: number): Promise<Buffer> {
  const fh = await fsp.open(file, 'r');
  try {
    const buf = Buffer.alloc(length);
    const { bytesRead } = await fh.read(buf, 0, length, start);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

export function openReadStream(file: string, start = 0, end?: number): ReadStream {
  return createReadStream(file, end === undefined ? { start } : { start, end });
}

export function openWriteStream(file: string, mode = 0o644): WriteStream {
  return createWriteStream(file, { flags: 'wx', mode });
}

/** A fresh private directory `<parent>/<prefix>XXXXXX` (same file system as parent, so rename works). */
export async function makeTempDir(parent: string, prefix: string): Promise<string> {
  return fsp.mkdtemp(`${parent}/${prefix}`);
}

/** Rename; fails if the target exists and is a non-empty directory (POSIX rename(2)). */
export async function renamePath(from: string, to: string): Promise<void> {
  await fsp.rename(from, to);
}

/** rm -rf that retries ENOTEMPTY/EBUSY (a late write from an aborted extraction). */
export async function removeTree(p: string): Promise<void> {
  await fsp.rm(p, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
}
