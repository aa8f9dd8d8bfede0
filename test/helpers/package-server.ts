import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A real local HTTP server for package downloads with Range support. `truncateOnce(path, n)`
 * makes the next full GET of that path send n bytes then drop the connection (a network cut);
 * `holdOnce(path, n)` makes it send n bytes then stall until released (a slow link), so a
 * test can act while a deployment is mid-download.
 */
export interface Hold {
  /** Resolves once the first n bytes were written to the client. */
  readonly reached: Promise<void>;
  /** Send the rest (if the client is still there). */
  release(): void;
}

export class PackageServer {
  readonly requests: { path: string; range: string | undefined; status: number }[] = [];
  private readonly files = new Map<string, Buffer>();
  private readonly truncate = new Map<string, number>();
  private readonly holds = new Map<string, { bytes: number; reached: () => void; released: Promise<void> }>();
  private server: http.Server | undefined;
  port = 0;

  add(p: string, body: Buffer): string {
    this.files.set(p, body);
    return `http://127.0.0.1:${this.port}${p}`;
  }

  truncateOnce(p: string, bytes: number): void {
    this.truncate.set(p, bytes);
  }

  holdOnce(p: string, bytes: number): Hold {
    let reached!: () => void;
    let release!: () => void;
    const r = new Promise<void>((resolve) => (reached = resolve));
    const released = new Promise<void>((resolve) => (release = resolve));
    this.holds.set(p, { bytes, reached, released });
    return { reached: r, release };
  }

  async start(): Promise<this> {
    this.server = http.createServer((req, res) => {
      const p = req.url ?? '/';
      const body = this.files.get(p);
      const range = req.headers.range;
      if (!body) {
        this.requests.push({ path: p, range, status: 404 });
        res.writeHead(404).end();
        return;
      }
      const cut = this.truncate.get(p);
      if (cut !== undefined && !range) {
        this.truncate.delete(p);
        this.requests.push({ path: p, range, status: 200 });
        res.writeHead(200, { 'content-length': body.length });
        res.write(body.subarray(0, cut), () => res.destroy());
        return;
      }
      const hold = this.holds.get(p);
      if (hold && !range) {
        this.holds.delete(p);
        this.requests.push({ path: p, range, status: 200 });
        res.writeHead(200, { 'content-length': body.length });
        res.write(body.subarray(0, hold.bytes), () => hold.reached());
        void hold.released.then(() => {
          if (!res.destroyed) res.end(body.subarray(hold.bytes));
        });
        return;
      }
      const m = range ? /^bytes=(\d+)-$/.exec(range) : null;
      if (m) {
        const start = Number(m[1]);
        this.requests.push({ path: p, range, status: 206 });
        res.writeHead(206, { 'content-length': body.length - start, 'content-range': `bytes ${start}-${body.length - 1}/${body.length}` });
        res.end(body.subarray(start));
        return;
      }
      this.requests.push({ path: p, range, status: 200 });
      res.writeHead(200, { 'content-length': body.length });
      res.end(body);
    });
    await new Promise<void>((r) => this.server?.listen(0, '127.0.0.1', () => r()));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((r) => this.server?.close(() => r()));
  }
}
