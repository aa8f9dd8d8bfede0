import t from 'tap';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { makeStack, noisyJpeg, type Stack } from '../../helpers/inference.js';

/**
 * Slow clients over REAL sockets (issue #14 "HTTP"): a client that trickles its headers or its
 * body is cut off at inference.requestTimeoutMs with a coded 408, not 16–55 s later; and the
 * bodies being received at once are bounded by inference.maxInflightBodyBytes, past which a new
 * body is refused before it is read.
 */
async function listen(s: Stack): Promise<number> {
  await s.app.listen({ host: '127.0.0.1', port: 0 });
  return (s.app.server.address() as AddressInfo).port;
}

interface Trickle {
  /** Everything the server sent back. */
  readonly answer: string;
  /** Chunks written before the server closed the connection. */
  readonly sent: number;
  readonly elapsedMs: number;
  /** The server closed the connection before the client had sent everything. */
  readonly cutOff: boolean;
}

/** Send `head` at once, then `chunks` one every `everyMs`; resolves when the server closes (or `graceMs` after the last chunk). */
function trickle(port: number, head: string, chunks: readonly string[], everyMs: number, graceMs = 2000): Promise<Trickle> {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const sock = net.connect(port, '127.0.0.1');
    let answer = '';
    let sent = 0;
    let finished = false;
    let timer: NodeJS.Timeout | undefined;
    const done = (cutOff: boolean): void => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      sock.destroy();
      resolve({ answer, sent, elapsedMs: Date.now() - t0, cutOff });
    };
    sock.on('data', (d: Buffer) => (answer += d.toString()));
    sock.on('error', () => undefined); // EPIPE/ECONNRESET once the server has closed
    sock.on('close', () => done(sent < chunks.length));
    sock.write(head);
    const next = (): void => {
      if (finished) return;
      if (sent >= chunks.length) {
        timer = setTimeout(() => done(false), graceMs);
        return;
      }
      sock.write(chunks[sent++] ?? '');
      timer = setTimeout(next, everyMs);
    };
    timer = setTimeout(next, everyMs);
  });
}

const TIMEOUT_MS = 1000;
// The trickle would take 10× the timeout: a server that enforces it must close the connection long before.
const STEPS = 100;
const EVERY_MS = TIMEOUT_MS / 10;

t.test('a client trickling its headers is cut off at requestTimeoutMs with 408 HTTP_REQUEST_TIMEOUT', async (t) => {
  const s = makeStack({ limits: { requestTimeoutMs: TIMEOUT_MS } });
  t.teardown(() => s.close());
  const port = await listen(s);
  const r = await trickle(port, 'POST /v1/detect HTTP/1.1\r\nHost: board\r\nContent-Type: image/jpeg\r\n', Array.from({ length: STEPS }, (_, i) => `X-Pad-${i}: a\r\n`), EVERY_MS);
  t.ok(r.cutOff, `the server closed the connection after ${r.sent} of ${STEPS} header lines (${r.elapsedMs} ms)`);
  t.ok(r.elapsedMs >= TIMEOUT_MS, `not before the timeout (${r.elapsedMs} ms ≥ ${TIMEOUT_MS} ms)`);
  t.match(r.answer, /^HTTP\/1\.1 408 Request Timeout\r\n/);
  const body = r.answer.slice(r.answer.indexOf('\r\n\r\n') + 4);
  t.match(JSON.parse(body), { error: { code: 'HTTP_REQUEST_TIMEOUT', message: /inference\.requestTimeoutMs \(1000 ms\)/ } });
});

t.test('a client trickling its body is cut off at requestTimeoutMs too; prompt requests are served meanwhile', async (t) => {
  const s = makeStack({ limits: { requestTimeoutMs: TIMEOUT_MS } });
  t.teardown(() => s.close());
  await s.service.activate(s.shelf.add('toy', '1'));
  const port = await listen(s);
  const chunk = 'x'.repeat(1024);
  const slow = trickle(port, `POST /v1/detect HTTP/1.1\r\nHost: board\r\nContent-Type: image/jpeg\r\nContent-Length: ${STEPS * chunk.length}\r\n\r\n`, Array.from({ length: STEPS }, () => chunk), EVERY_MS);
  const jpeg = await noisyJpeg(320, 200);
  const ok = await fetch(`http://127.0.0.1:${port}/v1/detect`, { method: 'POST', headers: { 'content-type': 'image/jpeg' }, body: jpeg });
  t.equal(ok.status, 200, 'a prompt client is served while the slow one trickles');
  const r = await slow;
  t.ok(r.cutOff, `the server closed the connection after ${r.sent} of ${STEPS} body chunks (${r.elapsedMs} ms)`);
  t.ok(r.elapsedMs >= TIMEOUT_MS);
  t.match(r.answer, /^HTTP\/1\.1 408 /);
  t.match(r.answer, /"code":"HTTP_REQUEST_TIMEOUT"/);
  // The server sees the connection close a moment after the client does.
  const reserved = async (): Promise<string> => /^jetson_http_inflight_body_bytes (\d+)$/m.exec(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text())?.[1] ?? '?';
  for (let i = 0; i < 100 && (await reserved()) !== '0'; i++) await new Promise((r) => setTimeout(r, 20));
  t.equal(await reserved(), '0', 'the cut-off body gave its bytes back');
});

t.test('bodies in flight are bounded: past inference.maxInflightBodyBytes a body is refused unread with 503 BODY_BUDGET_EXHAUSTED', async (t) => {
  const LIMIT = 64 * 1024;
  const s = makeStack({ limits: { bodyLimitBytes: LIMIT, maxInflightBodyBytes: 3 * LIMIT, requestTimeoutMs: 60_000 } });
  t.teardown(() => s.close());
  await s.service.activate(s.shelf.add('toy', '1'));
  const port = await listen(s);
  const inflightBytes = async (): Promise<number> => Number(/^jetson_http_inflight_body_bytes (\d+)$/m.exec(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text())?.[1]);
  const until = async (want: number): Promise<void> => {
    for (let i = 0; (await inflightBytes()) !== want; i++) {
      if (i > 250) throw new Error(`jetson_http_inflight_body_bytes never reached ${want} (now ${await inflightBytes()})`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  // Three clients announce a full-size body, send 1 KiB of it and stall.
  const stalled = Array.from({ length: 3 }, () => {
    const sock = net.connect(port, '127.0.0.1');
    sock.on('error', () => undefined);
    sock.write(`POST /v1/detect HTTP/1.1\r\nHost: board\r\nContent-Type: image/jpeg\r\nContent-Length: ${LIMIT}\r\n\r\n${'x'.repeat(1024)}`);
    return sock;
  });
  t.teardown(() => stalled.forEach((x) => x.destroy()));
  await until(3 * LIMIT);

  const jpeg = await noisyJpeg(160, 100);
  t.ok(jpeg.length < LIMIT);
  const refused = await fetch(`http://127.0.0.1:${port}/v1/detect`, { method: 'POST', headers: { 'content-type': 'image/jpeg' }, body: jpeg });
  t.equal(refused.status, 503);
  t.equal(refused.headers.get('retry-after'), '1');
  t.equal(refused.headers.get('connection'), 'close', 'the connection is closed instead of reading the body');
  t.match(await refused.json(), { error: { code: 'BODY_BUDGET_EXHAUSTED', message: /196608 of inference\.maxInflightBodyBytes \(196608\)/, hint: /Retry/ } });
  t.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200, 'requests without a body still pass');

  stalled[0]?.destroy();
  await until(2 * LIMIT);
  const served = await fetch(`http://127.0.0.1:${port}/v1/detect`, { method: 'POST', headers: { 'content-type': 'image/jpeg' }, body: jpeg });
  t.equal(served.status, 200, 'with room again, the next body is read and served');
  await until(2 * LIMIT);

  t.throws(() => makeStack({ limits: { bodyLimitBytes: LIMIT, maxInflightBodyBytes: LIMIT - 1 } }), { code: 'CONFIG_INVALID', message: /maxInflightBodyBytes/ });
});
