import t, { type Test } from 'tap';
import path from 'node:path';
import { writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { makeStack } from '../../helpers/inference.js';
import type { BoardFeed, ConsoleDeps } from '../../../agent/src/http/console/deps.js';
import type { HealthSnapshot } from '../../../agent/src/core/contracts/health.js';
import type { HistoryEntry } from '../../../agent/src/core/contracts/history.js';
import { CONSOLE_EVENTS_ROUTE } from '../../../agent/src/http/routes/console-events.js';

/** The console's feed as the composition root gives it; the test emits snapshots itself. */
class TestFeed implements BoardFeed {
  readonly listeners = new Set<(s: HealthSnapshot) => void>();
  watching = 0;
  onSnapshot(fn: (s: HealthSnapshot) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }
  watch(): () => void {
    this.watching++;
    return () => void this.watching--;
  }
  emit(ts: string, cpu: number[]): void {
    const s = {
      v: 1,
      ts,
      deviceId: 'd',
      status: 'ok',
      reasons: [],
      system: { cpuLoadPct: cpu, cpuLoadAvgPct: null, memory: { totalBytes: 8, usedBytes: 2, availableBytes: 6 }, swap: { totalBytes: 0, usedBytes: 0 }, disk: { path: '/', totalBytes: null, freeBytes: null }, network: [], uptimeSec: 1, cpuTempC: null },
      jetson: null,
      agent: { version: '1', uptimeSec: 1, rssBytes: 1, model: null, inference: { requests: 0, errors: 0, latencyP50Ms: null, latencyP99Ms: null, swap: { heldRequests: 0, rejectedRequests: 0, longestHoldMs: null } }, plugin: null, lastDeployment: null },
    } satisfies HealthSnapshot;
    for (const l of this.listeners) l(s);
  }
}

function consoleDeps(dir: string, feed: BoardFeed, history: HistoryEntry[] = []): ConsoleDeps {
  return {
    assetsDir: dir,
    sampleSec: 2,
    historySec: 600,
    feed,
    device: () => ({ deviceId: 'nano-7', board: { isJetson: true, model: 'NVIDIA Jetson Nano Developer Kit', soc: 't210', jetpack: '4.6.1', tensorrt: '8.2.1' } }),
    builtInModels: [{ name: 'toy', version: '1' }],
    storedModels: async () => [{ name: 'yolov3-kitti', version: '2.0.0', network: 'yolov3', format: 'etlt', sha256: 'a'.repeat(64), sizeBytes: 123, addedAt: '2026-01-01T00:00:00.000Z' }],
    history: async () => history,
    historyRevision: () => history.length,
    now: () => Date.now(),
  };
}

function assets(t: Test): string {
  const dir = t.testdir({ 'index.html': '<!doctype html><title>console</title>', 'main.js': 'export {};', 'style.css': 'body{}' });
  return dir;
}

t.test('page and assets: open without the token, locked-down headers, nothing outside the asset dir', async (t) => {
  const dir = assets(t);
  writeFileSync(path.join(path.dirname(dir), 'secret.js'), 'SECRET-CONTENT');
  const s = makeStack({ limits: { token: 'tok' }, console: consoleDeps(dir, new TestFeed()) });
  t.teardown(() => s.close());
  const page = await s.app.inject({ url: '/' });
  t.equal(page.statusCode, 200);
  t.match(page.headers['content-type'], /^text\/html/);
  t.match(page.headers['content-security-policy'], /default-src 'none'; script-src 'self'/);
  t.match(page.headers['content-security-policy'], /frame-ancestors 'none'/);
  t.equal(page.headers['x-frame-options'], 'DENY');
  t.equal(page.body, '<!doctype html><title>console</title>');
  const js = await s.app.inject({ url: '/console/main.js' });
  t.equal(js.statusCode, 200);
  t.match(js.headers['content-type'], /^text\/javascript/);
  const again = await s.app.inject({ url: '/console/main.js', headers: { 'if-none-match': String(js.headers.etag) } });
  t.equal(again.statusCode, 304, 'the ETag revalidates');
  for (const url of ['/console/nope.js', '/console/..%2Fsecret.js', '/console/%2e%2e%2fsecret.js', '/console/index.json']) {
    const r = await s.app.inject({ url });
    t.equal(r.statusCode, 404, url);
    t.notMatch(r.body, /SECRET-CONTENT/);
  }
  t.equal((await s.app.inject({ url: '/v1/console/state' })).statusCode, 401, 'data still needs the token');
  t.equal((await s.app.inject({ url: CONSOLE_EVENTS_ROUTE })).statusCode, 401, 'so does the event stream');
  t.equal((await s.app.inject({ url: '/metrics' })).statusCode, 401, 'and every other route, as before');
});

t.test('without built assets GET / says how to build them', async (t) => {
  const s = makeStack({ console: consoleDeps(t.testdir(), new TestFeed()) });
  t.teardown(() => s.close());
  const r = await s.app.inject({ url: '/' });
  t.equal(r.statusCode, 500);
  t.match(r.json(), { error: { code: 'CONSOLE_NOT_BUILT', hint: /npm run build/ } });
});

t.test('without the console (inference.console false) GET / is a 404 and / is not an open route', async (t) => {
  const s = makeStack({ limits: { token: 'tok' } });
  t.teardown(() => s.close());
  t.equal((await s.app.inject({ url: '/' })).statusCode, 401);
  t.equal((await s.app.inject({ url: '/', headers: { authorization: 'Bearer tok' } })).json<{ error: { code: string } }>().error.code, 'ROUTE_NOT_FOUND');
});

t.test('state: the serving model in full, stored and built-in models with the active one marked, history newest first', async (t) => {
  const history: HistoryEntry[] = [
    { at: '2026-01-01T00:00:00.000Z', kind: 'switch', model: { name: 'toy', version: '1' }, previous: null },
    { at: '2026-01-02T00:00:00.000Z', kind: 'deployment', deploymentId: 'dep-2', source: 'mqtt', state: 'failed', model: { name: 'yolov3-kitti', version: '2.0.0' }, previous: { name: 'toy', version: '1' }, error: { code: 'DEPLOYMENT_PREPARE_FAILED', message: 'x' } },
  ];
  const s = makeStack({ limits: { token: 'tok' }, console: consoleDeps(assets(t), new TestFeed(), history) });
  t.teardown(() => s.close());
  await s.service.activate(s.shelf.add('toy', '1', { height: 64, width: 96 }));
  const r = await s.app.inject({ url: '/v1/console/state', headers: { authorization: 'Bearer tok' } });
  t.equal(r.statusCode, 200, r.body);
  const body = r.json<{ model: unknown; models: { name: string; active: boolean; builtIn: boolean }[]; history: HistoryEntry[]; auth: unknown; agent: unknown }>();
  t.match(body.model, { name: 'toy', version: '1', family: 'yolov3', input: { width: 96, height: 64, channels: 3 }, classes: ['car', 'cyclist', 'pedestrian'], backend: 'onnxruntime', precision: 'fp32' });
  t.match(body.models, [
    { name: 'toy', builtIn: true, active: true },
    { name: 'yolov3-kitti', builtIn: false, active: false, network: 'yolov3' },
  ]);
  t.same(body.history.map((h) => h.at), ['2026-01-02T00:00:00.000Z', '2026-01-01T00:00:00.000Z']);
  t.same(body.auth, { tokenConfigured: true });
  t.match(body.agent, { deviceId: 'nano-7', board: { jetpack: '4.6.1' } });
});

t.test('admin routes: the CLI on loopback as before; another site never; a browser only with the token', async (t) => {
  const open = makeStack({ console: consoleDeps(assets(t), new TestFeed()) });
  t.teardown(() => open.close());
  await open.service.activate(open.shelf.add('toy', '1', { height: 64, width: 96 }));
  const host = 'localhost:8080';
  const rollback = (headers: Record<string, string>) => open.app.inject({ method: 'POST', url: '/v1/admin/models/rollback', headers: { host, ...headers } });
  t.equal((await rollback({})).json<{ error: { code: string } }>().error.code, 'NO_PREVIOUS_MODEL', 'no Origin (CLI, curl) on loopback: the route runs');
  const cross = await rollback({ origin: 'http://evil.example' });
  t.equal(cross.statusCode, 403);
  t.match(cross.json(), { error: { code: 'CROSS_ORIGIN_REFUSED' } });
  t.equal((await rollback({ 'sec-fetch-site': 'cross-site' })).statusCode, 403, 'Sec-Fetch-Site cross-site');
  t.equal((await rollback({ 'sec-fetch-site': 'same-site' })).statusCode, 403, 'a sibling host is another site too');
  const sameNoToken = await rollback({ origin: `http://${host}`, 'sec-fetch-site': 'same-origin' });
  t.equal(sameNoToken.statusCode, 401, 'this page, but no token is set: loopback is no credential for a browser');
  t.match(sameNoToken.json(), { error: { code: 'UNAUTHORIZED', hint: /inference\.token/ } });
  t.equal(open.service.status().active?.version, '1', 'nothing changed');

  const locked = makeStack({ limits: { token: 'tok' }, console: consoleDeps(assets(t), new TestFeed()) });
  t.teardown(() => locked.close());
  locked.shelf.add('toy', '1', { height: 64, width: 96 });
  await locked.service.activate(locked.shelf.servables[0]!);
  const activate = (headers: Record<string, string>) =>
    locked.app.inject({ method: 'POST', url: '/v1/admin/models/activate', headers: { host, 'content-type': 'application/json', ...headers }, payload: { name: 'toy', version: '1', warmupRuns: 0 } });
  t.equal((await activate({ origin: `http://${host}`, 'sec-fetch-site': 'same-origin' })).statusCode, 401, 'the page without the token');
  t.equal((await activate({ origin: 'http://evil.example', authorization: 'Bearer tok' })).statusCode, 403, 'another site, even with the token');
  const ok = await activate({ origin: `http://${host}`, 'sec-fetch-site': 'same-origin', authorization: 'Bearer tok' });
  t.equal(ok.statusCode, 200, ok.body);
  t.match(ok.json(), { active: { name: 'toy' }, previous: { name: 'toy' } });
});

t.test('event stream: history first, then one tick per snapshot; sampling held while open; close ends it', async (t) => {
  const feed = new TestFeed();
  const s = makeStack({ console: consoleDeps(assets(t), feed) });
  await s.service.activate(s.shelf.add('toy', '1', { height: 64, width: 96 }));
  feed.emit('2026-01-01T00:00:00.000Z', [10, 20]);
  await s.app.listen({ host: '127.0.0.1', port: 0 });
  const port = (s.app.server.address() as AddressInfo).port;
  const res = await fetch(`http://127.0.0.1:${port}${CONSOLE_EVENTS_ROUTE}`);
  t.equal(res.status, 200);
  t.match(res.headers.get('content-type'), /^text\/event-stream/);
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  interface Tick {
    serving: { p50Ms: number | null };
  }
  const next = async (): Promise<{ event: string; data: unknown }> => {
    for (;;) {
      const end = buf.indexOf('\n\n');
      if (end >= 0) {
        const block = buf.slice(0, end);
        buf = buf.slice(end + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1] ?? '';
        return { event, data: JSON.parse(/^data: (.*)$/m.exec(block)?.[1] ?? 'null') as unknown };
      }
      const { value, done } = await reader.read();
      if (done) throw new Error('stream ended');
      buf += value;
    }
  };
  const hello = await next();
  t.equal(hello.event, 'hello');
  t.match(hello.data, { sampleSec: 2, historySec: 600, board: [{ cpuPct: [10, 20] }], serving: [{ requestsTotal: 0 }] });
  t.equal(feed.watching, 1, 'an open console keeps the board sampled');
  const jpeg = (await import('../../helpers/inference.js')).noisyJpeg;
  const d = await fetch(`http://127.0.0.1:${port}/v1/detect`, { method: 'POST', headers: { 'content-type': 'image/jpeg' }, body: await jpeg(160, 96) });
  t.equal(d.status, 200);
  feed.emit(new Date().toISOString(), [30, 40]);
  const tick = await next();
  t.equal(tick.event, 'tick');
  t.match(tick.data, { board: { cpuPct: [30, 40] }, serving: { requestsTotal: 1, errorsTotal: 0 }, model: { active: { name: 'toy', version: '1' }, state: 'serving' } });
  const p50 = (tick.data as Tick).serving.p50Ms;
  t.ok(p50 !== null && p50 > 0, `latency of the one request: ${p50} ms`);
  // The stream is not an in-flight request, so /metrics does not count it as one.
  t.match((await s.app.inject({ url: '/metrics' })).body, /^jetson_http_inflight_requests 1$/m, 'only the /metrics request itself is in flight');
  await s.close();
  await t.rejects(next(), /stream ended/, 'closing the server ends the stream (close does not hang on it)');
  t.equal(feed.watching, 0, 'and releases the sampling');
});
