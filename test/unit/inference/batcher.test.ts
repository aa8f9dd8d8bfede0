import t from 'tap';
import { Batcher } from '../../../agent/src/inference/batcher.js';
import type { Engine, EngineOutputs } from '../../../agent/src/inference/engine.js';
import { TensorPool } from '../../../agent/src/inference/tensor-pool.js';

/** An engine that records batch sizes and echoes each item's first value, released by hand. */
function fakeEngine(concurrency: number) {
  const batches: number[] = [];
  const gates: (() => void)[] = [];
  const engine: Engine = {
    info: { backend: 'onnxruntime', inputName: 'Input', inputShape: [1, 1, 2], outputNames: ['y'], maxBatch: 8, concurrency },
    load: async () => undefined,
    warmup: async () => undefined,
    unload: async () => undefined,
    infer: async (input, batch): Promise<EngineOutputs> => {
      batches.push(batch);
      await new Promise<void>((r) => gates.push(r));
      const data = new Float32Array(batch);
      for (let i = 0; i < batch; i++) data[i] = input[i * 2]!;
      return { y: { dims: [batch, 1], data } };
    },
  };
  return { engine, batches, release: () => gates.splice(0).forEach((g) => g()) };
}
const tick = () => new Promise((r) => setTimeout(r, 20));

t.test('requests queued while the engine is busy leave as one batch, each gets its own slice', async (t) => {
  const f = fakeEngine(1);
  const b = new Batcher(f.engine, { maxBatch: 4, delayMs: 0, maxQueue: 10 });
  const first = b.submit(new Float32Array([1, 0]));
  await tick();
  const rest = [2, 3, 4, 5, 6].map((v) => b.submit(new Float32Array([v, 0])));
  await tick();
  t.same(f.batches, [1], 'the engine is busy with the first');
  t.equal(b.depth, 5);
  f.release();
  await tick();
  t.same(f.batches, [1, 4], 'next batch is capped at maxBatch');
  f.release();
  await tick();
  f.release();
  const outs = await Promise.all([first, ...rest]);
  t.same(f.batches, [1, 4, 1]);
  t.same(
    outs.map((o) => Array.from(o.y!.data)),
    [[1], [2], [3], [4], [5], [6]],
    'every caller gets its own result',
  );
  t.same(outs[2]!.y!.dims, [1, 1]);
});

t.test('an idle engine waits up to delayMs for company', async (t) => {
  const f = fakeEngine(1);
  const b = new Batcher(f.engine, { maxBatch: 4, delayMs: 15, maxQueue: 10 });
  const ps = [b.submit(new Float32Array([1, 0])), b.submit(new Float32Array([2, 0]))];
  await tick();
  t.same(f.batches, [2]);
  f.release();
  await Promise.all(ps);
});

t.test('a full queue rejects with OVERLOADED; engine errors reach every caller of the batch', async (t) => {
  const f = fakeEngine(1);
  const b = new Batcher(f.engine, { maxBatch: 1, delayMs: 0, maxQueue: 2 });
  const running = b.submit(new Float32Array([1, 0]));
  await tick();
  const q = [b.submit(new Float32Array([2, 0])), b.submit(new Float32Array([3, 0]))];
  await t.rejects(b.submit(new Float32Array([4, 0])), { code: 'OVERLOADED' });
  f.release();
  await running;
  for (let i = 0; i < 3; i++) {
    await tick();
    f.release();
  }
  await Promise.all(q);
  const failing = new Batcher({ ...f.engine, infer: async () => Promise.reject(new Error('boom')) }, { maxBatch: 2, delayMs: 5, maxQueue: 4 });
  const results = await Promise.allSettled([failing.submit(new Float32Array(2)), failing.submit(new Float32Array(2))]);
  t.same(results.map((r) => r.status), ['rejected', 'rejected']);
  await failing.idle();
});

t.test('with a pool: single tensors go back once copied into a batch; the batch tensor comes from the pool', async (t) => {
  const pool = new TensorPool();
  const seen: Float32Array[] = [];
  const engine = {
    info: { backend: 'onnxruntime' as const, inputName: 'x', inputShape: [1, 1, 2] as const, outputNames: ['y'], maxBatch: 4, concurrency: 1 },
    load: async () => {},
    warmup: async () => {},
    unload: async () => {},
    infer: async (input: Float32Array, batch: number) => {
      seen.push(input);
      return { y: { dims: [batch, 2], data: new Float32Array(input) } };
    },
  };
  const b = new Batcher(engine, { maxBatch: 4, delayMs: 20, maxQueue: 10, pool });
  const a1 = Float32Array.of(1, 2);
  const a2 = Float32Array.of(3, 4);
  const [r1, r2] = await Promise.all([b.submit(a1), b.submit(a2)]);
  t.same(Array.from(r1.y!.data), [1, 2], 'item 0 got its own slice');
  t.same(Array.from(r2.y!.data), [3, 4], 'item 1 got its own slice');
  t.equal(seen[0]?.length, 4, 'one batch of 2');
  t.equal(pool.size(2), 2, 'both single tensors are back in the pool');
  t.equal(pool.take(2), a2, 'and are handed out again (last in, first out)');
});
