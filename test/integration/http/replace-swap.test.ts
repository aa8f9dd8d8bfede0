import t from 'tap';
import type { AddressInfo } from 'node:net';
import { gatedLoad, makeStack, noisyJpeg, until, type Stack } from '../../helpers/inference.js';
import { failsAboveInput } from '../../helpers/onnx-faults.js';
import { memory } from '../../../agent/src/platform/sysinfo.js';

/**
 * swapMode replace on the real inference service, the real HTTP server (a real socket) and ONNX
 * Runtime. The new model's load is held at a gate (test/helpers/inference.ts gatedLoad) so the
 * tests act while the swap is provably in progress; everything else is the real path.
 */
const SIZE = { height: 64, width: 96 };

interface Answer {
  readonly status: number;
  readonly retryAfter: string | null;
  readonly code?: string;
  readonly message?: string;
  readonly version?: string;
}

async function listen(s: Stack): Promise<(path?: string) => Promise<Answer>> {
  await s.app.listen({ host: '127.0.0.1', port: 0 });
  const port = (s.app.server.address() as AddressInfo).port;
  const jpeg = await noisyJpeg(160, 96);
  return async (path = '/v1/detect') => {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, { method: 'POST', headers: { 'content-type': 'image/jpeg' }, body: jpeg });
    const body = (await res.json()) as { model?: { version: string }; error?: { code: string; message: string } };
    return { status: res.status, retryAfter: res.headers.get('retry-after'), code: body.error?.code, message: body.error?.message, version: body.model?.version };
  };
}

const metric = (s: Stack, line: string): number => {
  const m = s.metrics.registry.render().split('\n').find((l) => l.startsWith(line + ' '));
  return m ? Number(m.slice(line.length + 1)) : 0;
};

t.test('a hold deadline shorter than the swap: 503 MODEL_NOT_READY + Retry-After while the swap still loads, never a hang', async (t) => {
  const gate = gatedLoad('b');
  const s = makeStack({ service: { swapMode: 'replace', swapHoldMs: 100 }, wrapFactory: gate.wrap });
  t.teardown(() => s.close());
  const a = s.shelf.add('toy', 'a', { seed: 1, ...SIZE });
  const b = s.shelf.add('toy', 'b', { seed: 2, ...SIZE });
  await s.service.activate(a);
  const detect = await listen(s);
  t.equal((await detect()).version, 'a');

  const swap = s.service.activate(b);
  await gate.reached; // a is unloaded, b's load has begun and waits at the gate
  t.match(s.service.status(), { ready: false, state: 'activating', active: null, loaded: [], swap: { from: { version: 'a' }, to: { version: 'b' }, phase: 'loading' } }, '/v1/models: nothing serves, b is loading');
  const late = await detect();
  t.match(late, { status: 503, retryAfter: '1', code: 'MODEL_NOT_READY' }, 'answered while the gate is still closed');
  t.match(late.message, /held \d+ ms while toy@a is replaced by toy@b \(loading\), longer than inference\.swapHoldMs \(100 ms\)/);
  t.equal(metric(s, 'jetson_swap_rejected_requests_total{reason="deadline"}'), 1);

  gate.open();
  t.match(await swap, { active: { version: 'b' }, previous: { version: 'a' } });
  t.match(await detect(), { status: 200, version: 'b' });
  t.match(s.service.status(), { ready: true, state: 'serving', swap: null, loaded: [{ version: 'b', role: 'active' }] });
  const st = s.service.drainSwapStats();
  t.match(st, { held: 1, rejected: 1 }, 'the health snapshot sees one held request, refused');
  t.ok((st.longestHoldMs ?? 0) > 0, `longest hold ${st.longestHoldMs} ms`);
});

t.test('the queue bound: inference.maxQueue requests wait, the next answers OVERLOADED at once; the held ones are answered by the new model', async (t) => {
  const gate = gatedLoad('b');
  const s = makeStack({ service: { swapMode: 'replace', maxQueue: 2, swapHoldMs: 60_000 }, wrapFactory: gate.wrap });
  t.teardown(() => s.close());
  await s.service.activate(s.shelf.add('toy', 'a', { seed: 1, ...SIZE }));
  const detect = await listen(s);
  const swap = s.service.activate(s.shelf.add('toy', 'b', { seed: 2, ...SIZE }));
  await gate.reached;
  const held = [detect(), detect()];
  await until(() => s.service.status().swap?.held === 2, 'two held requests');
  t.match(await detect(), { status: 503, retryAfter: '1', code: 'OVERLOADED' }, 'the third is refused at once, the gate still closed');
  gate.open();
  await swap;
  t.same(
    (await Promise.all(held)).map((r) => `${r.status} ${r.version}`),
    ['200 b', '200 b'],
    'the held requests are answered by the model that serves when they are answered',
  );
  t.equal(metric(s, 'jetson_swap_held_requests_total'), 2);
  t.equal(metric(s, 'jetson_swap_rejected_requests_total{reason="queue_full"}'), 1);
  t.ok(metric(s, 'jetson_swap_hold_longest_seconds') > 0, 'the longest hold is reported');
});

t.test('a refused activation (warm-up failure): the old model is reloaded while requests wait, and it answers them', async (t) => {
  const gate = gatedLoad('bad');
  const s = makeStack({ service: { swapMode: 'replace', swapHoldMs: 60_000 }, wrapFactory: gate.wrap });
  t.teardown(() => s.close());
  const a = s.shelf.add('toy', 'a', { seed: 1, ...SIZE });
  await s.service.activate(a);
  const bad = s.shelf.add('toy', 'bad', { seed: 2, ...SIZE });
  // Warm-up runs on a zero tensor; with limit −1 that input trips the model's out-of-range Gather.
  s.shelf.bytes.set('memory:toy@bad', failsAboveInput(s.shelf.bytes.get('memory:toy@bad')!, -1));
  const detect = await listen(s);
  const swap = s.service.activate(bad);
  await gate.reached;
  const held = [detect(), detect(), detect()];
  await until(() => s.service.status().swap?.held === 3, 'three held requests');
  gate.open();
  await t.rejects(swap, { code: 'WARMUP_FAILED' }, 'the activation reports the refusal with its code');
  t.same(
    (await Promise.all(held)).map((r) => `${r.status} ${r.version}`),
    ['200 a', '200 a', '200 a'],
    'held through the refusal and the reload, answered by the old model',
  );
  t.match(s.service.status(), { ready: true, state: 'serving', active: { version: 'a' }, swap: null, loaded: [{ version: 'a', role: 'active' }] });
  t.equal(metric(s, 'jetson_swap_rejected_requests_total{reason="deadline"}'), 0, 'no 503');
});

t.test('when the old model does not come back either, held requests answer 503 naming both failures; /v1/models says nothing serves', async (t) => {
  const gate = gatedLoad('bad');
  const s = makeStack({ service: { swapMode: 'replace', swapHoldMs: 60_000 }, wrapFactory: gate.wrap });
  t.teardown(() => s.close());
  await s.service.activate(s.shelf.add('toy', 'a', { seed: 1, ...SIZE }));
  const bad = s.shelf.add('toy', 'bad', { seed: 2, ...SIZE });
  s.shelf.bytes.set('memory:toy@bad', failsAboveInput(s.shelf.bytes.get('memory:toy@bad')!, -1));
  const detect = await listen(s);
  const swap = s.service.activate(bad);
  await gate.reached;
  // a's model file is gone (deleted from the store meanwhile): it cannot be loaded again.
  s.shelf.bytes.delete('memory:toy@a');
  const held = detect();
  await until(() => s.service.status().swap?.held === 1, 'one held request');
  gate.open();
  await t.rejects(swap, { code: 'WARMUP_FAILED' });
  const r = await held;
  t.match(r, { status: 503, retryAfter: '1', code: 'MODEL_NOT_READY' });
  t.match(r.message, /No model is serving: toy@bad was refused \(WARMUP_FAILED\) and toy@a did not load again/);
  t.match(s.service.status(), { ready: false, state: 'empty', active: null, swap: null, loaded: [] });
  t.equal(metric(s, 'jetson_swap_rejected_requests_total{reason="no_model"}'), 1);
});

t.test('memory check first: a model that cannot fit even alone is refused before anything is unloaded', async (t) => {
  // MemAvailable as the board reports it (/proc/meminfo), until the test says nothing is left
  // beyond what the serving model holds. toy@big has a larger file than toy@a (two more Conv
  // layers) and, by the estimate, the workspace toy@a measured: it cannot fit in a's place.
  let reported: number | null = null;
  const readMemory = async () => (reported === null ? memory() : { availableBytes: reported });
  const s = makeStack({ service: { swapMode: 'replace', readMemory } });
  t.teardown(() => s.close());
  const a = s.shelf.add('toy', 'a', { seed: 1, ...SIZE });
  const big = s.shelf.add('toy', 'big', { seed: 2, ...SIZE, extraConvs: 2 });
  await s.service.activate(a);
  const engine = s.service.pick().parts.engine;
  const detect = await listen(s);
  reported = 0;
  const err = await s.service.activate(big).catch((e: unknown) => e);
  t.match(err, { code: 'MODEL_DOES_NOT_FIT', message: /Model toy@big needs about .* but the board has only .*Nothing was unloaded; toy@a keeps serving\./ });
  t.equal(s.service.pick().parts.engine, engine, 'the same engine serves: a was never unloaded');
  t.match(s.service.status(), { ready: true, state: 'serving', active: { version: 'a' }, swap: null });
  t.match(await detect(), { status: 200, version: 'a' });
  t.equal(metric(s, 'jetson_swap_held_requests_total'), 0, 'no gap, nothing held');

  reported = null;
  t.match(await s.service.activate(big), { active: { version: 'big' } }, 'with the memory the board really has, it fits');
});
