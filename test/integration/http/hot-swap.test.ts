import t from 'tap';
import type { AddressInfo } from 'node:net';
import { makeStack, noisyJpeg } from '../../helpers/inference.js';
import type { GoldenSet } from '../../../agent/src/inference/golden.js';

t.test('10 activations under continuous load over a real socket: zero failed requests, every response names its model version', async (t) => {
  const s = makeStack({ workers: 1 });
  t.teardown(() => s.close());
  for (let v = 0; v <= 10; v++) s.shelf.add('toy', `v${v}`, { seed: v + 1, height: 64, width: 96 });
  await s.service.activate(s.shelf.servables[0]!);
  await s.app.listen({ host: '127.0.0.1', port: 0 });
  const port = (s.app.server.address() as AddressInfo).port;
  const jpeg = await noisyJpeg(320, 200);

  let stop = false;
  const seen = new Map<string, number>();
  const failures: string[] = [];
  let ok = 0;
  const client = async () => {
    while (!stop) {
      const res = await fetch(`http://127.0.0.1:${port}/v1/detect`, { method: 'POST', headers: { 'content-type': 'image/jpeg' }, body: jpeg });
      const body = (await res.json()) as { model?: { name: string; version: string } };
      if (res.status !== 200 || !body.model?.version) failures.push(`${res.status} ${JSON.stringify(body)}`);
      else {
        ok++;
        seen.set(body.model.version, (seen.get(body.model.version) ?? 0) + 1);
      }
    }
  };
  const clients = Array.from({ length: 4 }, () => client());
  const order: string[] = ['v0'];
  for (let v = 1; v <= 10; v++) {
    const r = await s.service.activate(s.shelf.servables[v]!, { warmupRuns: 1 });
    t.equal(r.active.version, `v${v}`);
    t.equal(r.previous?.version, `v${v - 1}`);
    order.push(`v${v}`);
    // let some requests land on this version
    const before = ok;
    const t0 = Date.now();
    while (ok < before + 3 && failures.length === 0 && Date.now() - t0 < 30_000) await new Promise((r) => setTimeout(r, 5));
  }
  stop = true;
  await Promise.all(clients);
  t.same(failures, [], 'no failed request');
  t.ok(ok > 30, `${ok} requests answered`);
  t.ok([...seen.keys()].every((v) => order.includes(v)), 'every response names a real version');
  t.ok((seen.get('v10') ?? 0) > 0, 'the last version served');
  // old engines are drained and unloaded
  for (let i = 0; i < 100 && s.service.status().loaded.length > 1; i++) await new Promise((r) => setTimeout(r, 20));
  t.same(
    s.service.status().loaded.map((l) => [l.version, l.role]),
    [['v10', 'active']],
    'only the active model stays loaded',
  );
  t.match(s.service.status(), { ready: true, state: 'serving', active: { version: 'v10' }, previous: { version: 'v9' } });
  const stats = s.service.stats(60_000);
  t.equal(stats.errors, 0);
  t.equal(stats.requests, ok);
  t.ok(stats.latencyMs && stats.latencyMs.p50 > 0 && stats.latencyMs.p99 >= stats.latencyMs.p50);
});

t.test('a failing golden check or a broken model keeps the old model serving; rollback returns to the previous one', async (t) => {
  const s = makeStack();
  t.teardown(() => s.close());
  const a = s.shelf.add('toy', 'a', { seed: 1, height: 64, width: 96 });
  const b = s.shelf.add('toy', 'b', { seed: 2, height: 64, width: 96 });
  await s.service.activate(a);
  const jpeg = await noisyJpeg(200, 120, 5);
  // Golden expectations recorded from model b itself pass; from model a they fail on b.
  const detectWith = async () =>
    (await s.app.inject({ method: 'POST', url: '/v1/detect?maxDetections=1000', headers: { 'content-type': 'image/jpeg' }, payload: jpeg })).json<{
      detections: { classId: number; score: number; box: { x1: number; y1: number; x2: number; y2: number } }[];
    }>().detections;
  const fromA = await detectWith();
  t.ok(fromA.length > 0, 'model a detects something on the golden image');
  const goldenA: GoldenSet = { iouTolerance: 0.9, scoreTolerance: 0.02, cases: [{ image: 'g.jpg', bytes: jpeg, detections: fromA }] };
  await t.rejects(s.service.activate(b, { golden: goldenA }), { code: 'GOLDEN_MISMATCH' });
  t.match(s.service.status(), { active: { version: 'a' }, loaded: [{ version: 'a', role: 'active' }] }, 'a still serves, b was unloaded');

  // Admin route: activation through HTTP with a resolver.
  const res = await s.app.inject({ method: 'POST', url: '/v1/admin/models/activate', payload: { name: 'toy', version: 'b' } });
  t.equal(res.statusCode, 200, res.body);
  t.match(res.json(), { active: { name: 'toy', version: 'b' }, previous: { version: 'a' } });
  const unknown = await s.app.inject({ method: 'POST', url: '/v1/admin/models/activate', payload: { name: 'toy', version: 'zzz' } });
  t.equal(unknown.statusCode, 404);

  // A corrupt model: load fails, b keeps serving.
  s.shelf.bytes.set('memory:toy@broken', new Uint8Array([1, 2, 3, 4]));
  s.shelf.servables.push({ ...b, onnxPath: 'memory:toy@broken', model: { ...b.model, version: 'broken' } } as typeof b);
  const broken = await s.app.inject({ method: 'POST', url: '/v1/admin/models/activate', payload: { name: 'toy', version: 'broken' } });
  t.ok(broken.statusCode >= 400, `broken model refused (${broken.statusCode} ${broken.body})`);
  t.equal(s.service.status().active?.version, 'b');

  const rb = await s.app.inject({ method: 'POST', url: '/v1/admin/models/rollback' });
  t.equal(rb.statusCode, 200, rb.body);
  t.equal(s.service.status().active?.version, 'a', 'rolled back to a');
  const again = await detectWith();
  t.same(again, fromA, 'a answers exactly as before');
  const models = (await s.app.inject('/v1/models')).json<unknown>();
  t.match(models, { ready: true, active: { version: 'a' }, previous: { version: 'b' } });
  // Golden expectations that the model meets pass the check.
  const ok = await s.service.activate(a, { golden: goldenA });
  t.match(ok, { active: { version: 'a' }, goldenCases: 1 }, 'a passes its own golden set');
});

t.test('swapMode replace (one model in memory): never two engines loaded, requests in the gap wait and are answered (no 503), a failed swap reloads the old model', async (t) => {
  const s = makeStack({ service: { swapMode: 'replace' } });
  t.teardown(() => s.close());
  const a = s.shelf.add('toy', 'a', { seed: 1, height: 64, width: 96 });
  const b = s.shelf.add('toy', 'b', { seed: 2, height: 64, width: 96 });
  await s.service.activate(a);
  let maxLoaded = 0;
  const statuses = new Set<number>();
  let polling = true;
  const jpeg = await noisyJpeg(160, 96);
  const poller = (async () => {
    while (polling) {
      maxLoaded = Math.max(maxLoaded, s.service.status().loaded.length);
      const r = await s.app.inject({ method: 'POST', url: '/v1/detect', headers: { 'content-type': 'image/jpeg' }, payload: jpeg });
      statuses.add(r.statusCode);
    }
  })();
  const r = await s.service.activate(b);
  t.match(r, { active: { version: 'b' }, previous: { version: 'a' } });
  polling = false;
  await poller;
  t.equal(maxLoaded, 1, 'at most one model loaded at any time');
  t.same([...statuses], [200], 'every request during the swap answered 200');

  s.shelf.bytes.set('memory:toy@broken', new Uint8Array([1, 2, 3]));
  s.shelf.servables.push({ ...b, onnxPath: 'memory:toy@broken', model: { ...b.model, version: 'broken' } } as typeof b);
  await t.rejects(s.service.activate(s.shelf.servables[2]!), { code: 'ONNX_INVALID' });
  t.match(s.service.status(), { ready: true, active: { version: 'b' }, loaded: [{ version: 'b' }] }, 'the old model was reloaded');
});

t.test('activateFirst takes its place in the activation order at once and falls back to the next candidate', async (t) => {
  const s = makeStack();
  t.teardown(() => s.close());
  const a = s.shelf.add('toy', 'a', { seed: 1, height: 64, width: 96 });
  const b = s.shelf.add('toy', 'b', { seed: 2, height: 64, width: 96 });
  let release!: () => void;
  const slow = new Promise<void>((r) => (release = r));
  // The start model resolves slowly (store lookup, conversion); an activation asked for meanwhile must land after it.
  const start = s.service.activateFirst([
    async () => {
      throw Object.assign(new Error('not stored'), { code: 'MODEL_NOT_FOUND' });
    },
    async () => {
      await slow;
      return { servable: a };
    },
  ]);
  const later = s.service.activate(b);
  release();
  t.match(await start, { active: { version: 'a' } }, 'the second candidate after the first failed');
  t.match(await later, { active: { version: 'b' }, previous: { version: 'a' } });
  t.match(s.service.status(), { active: { version: 'b' } }, 'the later activation was not overwritten by the start model');
  await t.rejects(s.service.activateFirst([]), { code: 'MODEL_NOT_FOUND' }, 'no candidates');
});

t.test('activateFirst: a fallback marked record:false serves but is not reported to onSwitch; explicit switches are', async (t) => {
  const switched: string[] = [];
  const s = makeStack({ service: { onSwitch: (m) => switched.push(`${m.name}@${m.version}`) } });
  t.teardown(() => s.close());
  const a = s.shelf.add('toy', 'a', { seed: 1, height: 64, width: 96 });
  const b = s.shelf.add('toy', 'b', { seed: 2, height: 64, width: 96 });
  const r = await s.service.activateFirst([
    async () => {
      throw Object.assign(new Error('conversion timed out'), { code: 'MODEL_CONVERSION_FAILED' });
    },
    async () => ({ servable: a, record: false }),
  ]);
  t.match(r, { active: { version: 'a' } }, 'the fallback serves');
  t.same(switched, [], 'the record keeps the model that failed transiently');
  await s.service.activate(b);
  await s.service.rollback();
  t.same(switched, ['toy@b', 'toy@a'], 'activation and rollback are recorded');
});

t.test('activateFirst stops at close(): no further candidate is resolved, the start rejects CANCELED', async (t) => {
  const s = makeStack();
  const a = s.shelf.add('toy', 'a', { seed: 1, height: 64, width: 96 });
  let release!: () => void;
  const slow = new Promise<void>((r) => (release = r));
  let resolvedSecond = false;
  const start = s.service.activateFirst([
    async () => {
      await slow;
      throw Object.assign(new Error('not stored'), { code: 'MODEL_NOT_FOUND' });
    },
    async () => {
      resolvedSecond = true; // would be a long conversion on a board
      return { servable: a };
    },
  ]);
  t.teardown(() => s.close());
  const closing = s.service.close(); // what the daemon's stop does (after the HTTP server)
  release();
  await t.rejects(start, { code: 'CANCELED' });
  await closing;
  t.notOk(resolvedSecond, 'the fallback was not resolved after close()');
  t.equal(s.service.ready, false);
});

t.test('restart (MQTT restart-inference): a fresh engine for the same model, rollback target kept; replace mode answers every request meanwhile', async (t) => {
  const s = makeStack({ service: { swapMode: 'replace' } });
  t.teardown(() => s.close());
  await t.rejects(s.service.restart(), { code: 'MODEL_NOT_READY' }, 'nothing serving: nothing to restart');
  const a = s.shelf.add('toy', 'a', { seed: 1, height: 64, width: 96 });
  const b = s.shelf.add('toy', 'b', { seed: 2, height: 64, width: 96 });
  await s.service.activate(a);
  await s.service.activate(b);
  const engineBefore = s.service.pick().parts.engine;
  const jpeg = await noisyJpeg(160, 96);
  const statuses: number[] = [];
  let polling = true;
  const poller = (async () => {
    while (polling) {
      const r = await s.app.inject({ method: 'POST', url: '/v1/detect', headers: { 'content-type': 'image/jpeg' }, payload: jpeg });
      statuses.push(r.statusCode);
    }
  })();
  while (statuses.length < 3) await new Promise((r) => setTimeout(r, 5));
  const r = await s.service.restart();
  polling = false;
  await poller;
  t.match(r, { active: { name: 'toy', version: 'b' }, previous: { version: 'a' } });
  t.not(s.service.pick().parts.engine, engineBefore, 'a new engine serves');
  t.match(s.service.status(), { active: { version: 'b' }, previous: { version: 'a' }, loaded: [{ version: 'b' }] }, 'rollback target unchanged, one engine loaded');
  t.same([...new Set(statuses)], [200], `every request during the restart answered 200 (${statuses.length} requests)`);
  const back = await s.service.rollback();
  t.equal(back.active.version, 'a', 'a rollback after the restart still returns to the model before');
});
