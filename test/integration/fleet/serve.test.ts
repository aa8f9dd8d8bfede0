import t from 'tap';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { symlinkSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { createPackageServer } from '../../../agent/src/fleet/serve.js';
import { cleanEnv, FLEET_JS } from '../../helpers/cli.js';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** Raw node:http client: fetch() would normalise "/../" away before the server sees it. */
function get(port: number, urlPath: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: urlPath, method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

async function start(t: { teardown(fn: () => unknown): void }, dir: string): Promise<number> {
  const server = createPackageServer({ dir });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  return (server.address() as AddressInfo).port;
}

const PKG = randomBytes(256 * 1024 + 17);

t.test('package server over real HTTP', async (t) => {
  const base = t.testdir({ secret: 'outside', pkgs: { 'yolo-1.2.tar': PKG, 'm.json': '{"a":1}\n', sub: { 'x.bin': 'x' } } });
  const dir = path.join(base, 'pkgs');
  symlinkSync(path.join(base, 'secret'), path.join(dir, 'escape'));
  const port = await start(t, dir);

  t.test('full GET with length, ETag and Accept-Ranges', async (t) => {
    const r = await get(port, '/yolo-1.2.tar');
    t.equal(r.status, 200);
    t.equal(r.headers['content-length'], String(PKG.length));
    t.equal(r.headers['accept-ranges'], 'bytes');
    t.match(r.headers.etag, /^"[0-9a-f]+-[0-9a-f]+"$/);
    t.equal(r.headers['content-type'], 'application/x-tar');
    t.equal(sha(r.body), sha(PKG));
    const json = await get(port, '/m.json');
    t.equal(json.headers['content-type'], 'application/json');
    t.equal((await get(port, '/sub/x.bin')).body.toString(), 'x', 'subdirectories work');
  });

  t.test('HEAD gives the headers and no body', async (t) => {
    const r = await get(port, '/yolo-1.2.tar', {}, 'HEAD');
    t.equal(r.status, 200);
    t.equal(r.headers['content-length'], String(PKG.length));
    t.equal(r.body.length, 0);
  });

  t.test('single ranges: 206 with Content-Range', async (t) => {
    const r = await get(port, '/yolo-1.2.tar', { Range: 'bytes=10-19' });
    t.equal(r.status, 206);
    t.equal(r.headers['content-range'], `bytes 10-19/${PKG.length}`);
    t.equal(r.headers['content-length'], '10');
    t.same(r.body, PKG.subarray(10, 20));
    const tail = await get(port, '/yolo-1.2.tar', { Range: 'bytes=-7' });
    t.equal(tail.status, 206);
    t.same(tail.body, PKG.subarray(PKG.length - 7));
  });

  t.test('resume of a truncated download gives the same bytes', async (t) => {
    const first = await get(port, '/yolo-1.2.tar');
    const truncated = first.body.subarray(0, 100_003); // connection "dropped" here
    const etag = String(first.headers.etag);
    const rest = await get(port, '/yolo-1.2.tar', { Range: `bytes=${truncated.length}-`, 'If-Range': etag });
    t.equal(rest.status, 206);
    t.equal(sha(Buffer.concat([truncated, rest.body])), sha(PKG));
  });

  t.test('If-Range with a stale ETag sends the whole new file, never a splice', async (t) => {
    const r = await get(port, '/yolo-1.2.tar', { Range: 'bytes=100-', 'If-Range': '"0-0"' });
    t.equal(r.status, 200);
    t.equal(r.body.length, PKG.length);
    const etag = String((await get(port, '/m.json', {}, 'HEAD')).headers.etag);
    t.equal((await get(port, '/m.json', { 'If-None-Match': etag })).status, 304);
  });

  t.test('416 for a range past the end', async (t) => {
    const r = await get(port, '/yolo-1.2.tar', { Range: `bytes=${PKG.length}-` });
    t.equal(r.status, 416);
    t.equal(r.headers['content-range'], `bytes */${PKG.length}`);
  });

  t.test('404s: missing, directory, traversal (raw, encoded), symlink out', async (t) => {
    t.equal((await get(port, '/nope.tar')).status, 404);
    t.equal((await get(port, '/')).status, 404, 'no directory listing');
    t.equal((await get(port, '/sub')).status, 404);
    for (const p of ['/../secret', '/sub/../../secret', '/%2e%2e/secret', '/..%2fsecret', '/%2e%2e%2fsecret', '/escape', '/%00', '/%zz']) {
      const r = await get(port, p);
      t.equal(r.status, 404, p);
      t.notMatch(r.body.toString(), /outside/, `${p} leaks nothing`);
    }
  });

  t.test('only GET and HEAD', async (t) => {
    const r = await get(port, '/yolo-1.2.tar', {}, 'PUT');
    t.equal(r.status, 405);
    t.equal(r.headers.allow, 'GET, HEAD');
  });
});

t.test('jetson-fleet serve: CLI listens on port 0, serves, stops on SIGTERM', async (t) => {
  const dir = t.testdir({ 'p.tar': 'package-bytes' });
  const child = spawn(process.execPath, [FLEET_JS, 'serve', '--dir', dir, '--port', '0', '--json'], { env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no url; stderr: ${stderr}`)), 20_000);
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      try {
        const parsed = JSON.parse(stdout) as { url: string };
        clearTimeout(timer);
        resolve(parsed.url);
      } catch {
        // not complete yet
      }
    });
  });
  const port = Number(new URL(url).port);
  const r = await get(port, '/p.tar', { Range: 'bytes=0-6' });
  t.equal(r.status, 206);
  t.equal(r.body.toString(), 'package');
  child.kill('SIGTERM');
  t.equal(await exited, 0, 'clean exit on SIGTERM');
  t.match(stderr, /GET \/p\.tar 206 7/, 'access log on stderr');
});

t.test('jetson-fleet serve: a missing directory is a coded error', async (t) => {
  const child = spawn(process.execPath, [FLEET_JS, 'serve', '--dir', '/nonexistent-dir-xyz', '--port', '0'], { env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((r) => child.on('close', (c) => r(c)));
  t.equal(code, 1);
  t.match(stderr, /FS_ERROR: \/nonexistent-dir-xyz is not a directory/);
});

