import t from 'tap';
import { Batcher } from '../../../agent/src/inference/batcher.js';
import type { Engine, EngineOutputs } from '../../../agent/src/inference/engine.js';

/** Records the first value of each batch it runs; each run is released by hand. */
function fakeEngine(concurrency: number) {
  const order: number[] = [];
  const gates: (() => void)[] = [];
  const engine: Engine = {
    info: { backend: 'onnxruntime', inputName: 'Input', inputShape: [1, 1, 1], outputNames: ['y'], maxBatch: 1, concurrency },
    load: async () => undefined,
    warmup: async () => undefined,
    unload: async () => undefined,
    infer: async (input): Promise<EngineOutputs> => {
      order.push(input[0]!);
      await new Promise<void>((r) => gates.push(r));
      return { y: { dims: [1, 1], data: new Float32Array([input[0]!]) } };
    },
  };
  return { engine, order, running: () => gates.length, releaseOne: () => gates.shift()?.() };
}
const tick = () => new Promise((r) => setImmediate(r));
const item = (v: number) => new Float32Array([v]);

t.test('a live request overtakes every queued evaluation item', async (t) => {
  const f = fakeEngine(1);
  let now = 0;
  const b = new Batcher(f.engine, { maxBatch: 1, delayMs: 0, maxQueue: 100, now: () => now });
  const low = [1, 2, 3].map((v) => b.submit(item(v), 'low'));
  await tick();
  t.same(f.order, [1], 'the first low item runs on an idle engine');
  const live = b.submit(item(100));
  f.releaseOne();
  await tick();
  t.same(f.order, [1, 100], 'the live request runs next, before low items 2 and 3');
  f.releaseOne();
  await tick();
  f.releaseOne();
  await tick();
  f.releaseOne();
  await Promise.all([...low, live]);
  t.same(f.order, [1, 100, 2, 3]);
  now = 0;
});

t.test('evaluation takes every slot only when live traffic is quiet', async (t) => {
  const f = fakeEngine(2);
  let now = 10_000;
  const b = new Batcher(f.engine, { maxBatch: 1, delayMs: 0, maxQueue: 100, now: () => now, lowQuietMs: 1000 });
  const a = [1, 2, 3, 4].map((v) => b.submit(item(v), 'low'));
  await tick();
  t.equal(f.running(), 2, 'no live request seen: both slots run evaluation');
  // A live request arrives and runs; from now on evaluation keeps to one slot.
  f.releaseOne();
  await tick();
  const live = b.submit(item(100));
  await tick();
  t.same(f.order, [1, 2, 3], 'item 3 took the slot that freed before the live request came');
  f.releaseOne(); // 2 done → the live request
  await tick();
  t.same(f.order, [1, 2, 3, 100]);
  now += 10; // within the quiet window
  f.releaseOne(); // 3 done
  await tick();
  f.releaseOne(); // live done
  await tick();
  t.same(f.order, [1, 2, 3, 100, 4], 'one low slot while live traffic is recent');
  t.equal(f.running(), 1);
  f.releaseOne();
  await Promise.all([...a, live]);
});

t.test('the low queue counts against maxQueue and is rejected on teardown', async (t) => {
  const f = fakeEngine(1);
  const b = new Batcher(f.engine, { maxBatch: 1, delayMs: 0, maxQueue: 2 });
  const first = b.submit(item(1), 'low');
  await tick();
  const queued = [b.submit(item(2), 'low'), b.submit(item(3))];
  await t.rejects(b.submit(item(4), 'low'), { code: 'OVERLOADED' });
  b.rejectAll(new Error('stopping'));
  for (const q of queued) await t.rejects(q, { message: 'stopping' });
  f.releaseOne();
  await first;
});
