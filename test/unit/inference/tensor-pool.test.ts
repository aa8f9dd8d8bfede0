import t from 'tap';
import { silentLogger } from '../../../agent/src/core/log.js';
import { generatedServable } from '../../../agent/src/inference/demo-model.js';
import { OrtEngine } from '../../../agent/src/inference/ort-engine.js';
import { TensorPool } from '../../../agent/src/inference/tensor-pool.js';
import { prepareForOnnxRuntime } from '../../../agent/src/models/onnx/prepare.js';

t.test('pool: reuse by length, bounded, detached or partial views refused', async (t) => {
  const pool = new TensorPool(2);
  const a = new Float32Array(6);
  pool.give(a);
  t.equal(pool.take(6), a, 'same tensor back');
  t.not(pool.take(6), a, 'empty pool allocates');
  pool.give(new Float32Array(6));
  pool.give(new Float32Array(6));
  pool.give(new Float32Array(6));
  t.equal(pool.size(6), 2, 'at most maxItems single items');
  t.equal(pool.take(4).length, 4, 'another length is a fresh tensor');
  pool.give(new Float32Array(new ArrayBuffer(48), 8, 4));
  t.equal(pool.size(4), 0, 'a view into a larger buffer is not pooled (it would alias)');
  const moved = new Float32Array(4);
  structuredClone(moved.buffer, { transfer: [moved.buffer] });
  pool.give(moved);
  t.equal(pool.size(0), 0, 'a detached tensor is ignored');
});

t.test('pool: total retained bytes capped at 4 single items after a burst of every batch size', async (t) => {
  // One single item of a 3×384×1248 model; a burst at maxBatch 4 hands back batches of 1…4 items.
  const single = 3 * 384 * 1248;
  const pool = new TensorPool();
  const taken = [pool.take(single)];
  for (let i = 0; i < 7; i++) taken.push(pool.take(single));
  for (const n of [2, 3, 4]) for (let i = 0; i < 8; i++) pool.give(new Float32Array(n * single));
  for (const tensor of taken) pool.give(tensor);
  t.equal(pool.retainedBytes, 4 * single * 4, `${(pool.retainedBytes / 1e6).toFixed(1)} MB retained, not the ~460 MB of 8 per batch size`);
  t.equal(pool.size(single), 4, 'single items are what every request takes: they stay');
  t.same([2, 3, 4].map((n) => pool.size(n * single)), [0, 0, 0], 'batch tensors were evicted to make room');
  t.ok(pool.take(single) === taken[3], 'pooled singles are reused');
});

t.test('pool: a batch tensor stays while there is room and goes first when singles need it', async (t) => {
  const pool = new TensorPool();
  const one = pool.take(10);
  pool.give(new Float32Array(20));
  t.equal(pool.size(20), 1, 'room for a batch of 2 next to nothing else');
  pool.give(new Float32Array(50));
  t.equal(pool.size(50), 0, 'a batch larger than the whole cap (5 items > 4) is not kept');
  pool.give(one);
  pool.give(new Float32Array(10));
  t.equal(pool.retainedBytes, 4 * 10 * 4, 'full: one batch of 2 + two singles');
  pool.give(new Float32Array(10));
  t.equal(pool.size(20), 0, 'the batch tensor made room');
  t.equal(pool.size(10), 3);
  t.equal(pool.retainedBytes, 3 * 10 * 4);
});

t.test('ONNX Runtime worker hands the input buffer back after the run', async (t) => {
  const g = generatedServable({ name: 'p', version: '1', height: 32, width: 32, seed: 3, maxBatch: 2, extraConvs: 0 });
  const prepared = prepareForOnnxRuntime(g.bytes);
  const pool = new TensorPool();
  const engine = new OrtEngine({ model: prepared.model, inputName: prepared.inputName, inputShape: [3, 32, 32], outputNames: prepared.outputNames, maxBatch: 2, workers: 1, intraOpThreads: 1, log: silentLogger, pool });
  await engine.load();
  t.teardown(() => engine.unload());
  const input = new Float32Array(3 * 32 * 32).fill(0.5);
  const first = await engine.infer(input, 1);
  t.equal(input.length, 0, 'transferred to the worker, not copied');
  t.equal(pool.size(3 * 32 * 32), 1, 'the buffer came back into the pool');
  const again = pool.take(3 * 32 * 32);
  t.equal(again[0], 0.5, 'with the bytes that were sent');
  const second = await engine.infer(again, 1);
  for (const name of prepared.outputNames) t.same(Array.from(second[name]!.data), Array.from(first[name]!.data), `${name}: same result from the reused buffer`);
});
