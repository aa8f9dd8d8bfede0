import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fsp, realpathMaybe, statMaybe } from '../platform/fs.js';
import { parseByteRange } from './byte-range.js';

export interface PackageServerOptions {
  /** Directory whose regular files are served; nothing outside it is reachable. */
  readonly dir: string;
  /** Called once per finished request (for access logging). */
  readonly onRequest?: (entry: { method: string; path: string; status: number; bytes: number }) => void;
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.json': 'application/json',
  '.tar': 'application/x-tar',
  '.gz': 'application/gzip',
  '.tgz': 'application/gzip',
};

/**
 * A small static file server for labs (`jetson-fleet serve`): GET/HEAD, one byte range
 * (206/416), If-Range and If-None-Match against an ETag of size + mtime — hashing multi-GB
 * packages per request would be the slow part, and the manifest's sha256 is what devices
 * trust anyway. Paths are resolved inside `dir` after following symlinks, so neither `..`
 * (raw or %-encoded) nor a symlink can reach outside. No directory listings.
 * Returns an unstarted server; the caller listens (tests on port 0).
 */
export function createPackageServer(options: PackageServerOptions): Server {
  const rootPromise = realpathMaybe(options.dir);
  return createServer((req, res) => {
    void handle(req, res, rootPromise, options).catch(() => {
      if (!res.headersSent) send(res, 500, 'internal error\n');
      else res.destroy();
    });
  });
}

function send(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': String(Buffer.byteLength(body)), ...headers });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

async function resolveInside(root: string, urlPath: string): Promise<string | undefined> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return undefined;
  }
  if (decoded.includes('\0')) return undefined;
  const candidate = path.resolve(root, '.' + path.posix.normalize('/' + decoded));
  const real = await realpathMaybe(candidate);
  if (!real) return undefined;
  const rel = path.relative(root, real);
  if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) return undefined;
  return real;
}

async function handle(req: IncomingMessage, res: ServerResponse, rootPromise: Promise<string | undefined>, options: PackageServerOptions): Promise<void> {
  const method = req.method ?? 'GET';
  const rawPath = (req.url ?? '/').split('?')[0] ?? '/';
  let bytes = 0;
  res.on('finish', () => options.onRequest?.({ method, path: rawPath, status: res.statusCode, bytes }));
  if (method !== 'GET' && method !== 'HEAD') {
    send(res, 405, 'method not allowed\n', { Allow: 'GET, HEAD' });
    return;
  }
  const root = await rootPromise;
  const file = root ? await resolveInside(root, rawPath) : undefined;
  const st = file ? await statMaybe(file) : undefined;
  if (!file || !st?.isFile()) {
    send(res, 404, 'not found\n');
    return;
  }
  const size = st.size;
  const etag = `"${size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}"`;
  const common = {
    'Accept-Ranges': 'bytes',
    ETag: etag,
    'Last-Modified': st.mtime.toUTCString(),
    'Content-Type': CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream',
  };
  if (req.headers['if-none-match'] === etag) {
    res.writeHead(304, { ETag: etag, 'Accept-Ranges': 'bytes' });
    res.end();
    return;
  }
  // If-Range: resume only when the file is still the one the client started on; otherwise
  // send it whole so a changed package is never spliced onto an old partial download.
  const ifRange = req.headers['if-range'];
  const rangeHeader = ifRange !== undefined && ifRange !== etag && ifRange !== common['Last-Modified'] ? undefined : req.headers.range;
  const range = parseByteRange(rangeHeader, size);
  if (range.kind === 'unsatisfiable') {
    send(res, 416, 'range not satisfiable\n', { 'Content-Range': `bytes */${size}`, 'Accept-Ranges': 'bytes' });
    return;
  }
  const [start, end] = range.kind === 'partial' ? [range.start, range.end] : [0, size - 1];
  const length = size === 0 ? 0 : end - start + 1;
  res.writeHead(range.kind === 'partial' ? 206 : 200, {
    ...common,
    'Content-Length': String(length),
    ...(range.kind === 'partial' ? { 'Content-Range': `bytes ${start}-${end}/${size}` } : {}),
  });
  if (method === 'HEAD' || length === 0) {
    res.end();
    return;
  }
  const fh = await fsp.open(file, 'r');
  const stream = fh.createReadStream({ start, end, autoClose: true });
  stream.on('data', (chunk: Buffer | string) => (bytes += chunk.length));
  try {
    await pipeline(stream, res);
  } catch {
    // Client went away mid-transfer: normal for resumable downloads.
    res.destroy();
  }
}
