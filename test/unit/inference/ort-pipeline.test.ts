import t from 'tap';
import { silentLogger } from '../../../agent/src/core/log.js';
import { generatedServable } from '../../../agent/src/inference/demo-model.js';
import type { EngineOutputs } from '../../../agent/src/inference/engine.js';
import { OrtEngine, PIPELINE_DEPTH } from '../../../agent/src/inference/ort-engine.js';
import { prepareForOnnxRuntime } from '../../../agent/src/models/onnx/prepare.js';

/**
 * One worker takes PIPELINE_DEPTH runs at once (the next waits in its port while it runs the
 * current one): each caller still gets the result of its own input.
 */
const SHAPE = [3, 32, 32] as const;
const LEN = 3 * 32 * 32;

function makeEngine(t: { teardown(fn: () => unknown): void }) {
  const g = generatedServable({ name: 'p', version: '1', height: 32, width: 32, seed: 5, maxBatch: 2, extraConvs: 0 });
  const prepared = prepareForOnnxRuntime(g.bytes);
  const engine = new OrtEngine({ model: prepared.model, inputName: prepared.inputName, inputShape: SHAPE, outputNames: prepared.outputNames, maxBatch: 2, workers: 1, intraOpThreads: 1, log: silentLogger });
  t.teardown(() => engine.unload());
  return { engine, outputNames: prepared.outputNames };
}

const input = (seed: number): Float32Array => Float32Array.from({ length: LEN }, (_, i) => ((i * 7919 + seed * 104729) % 1000) / 1000);

t.test('runs posted ahead each come back to their own caller', async (t) => {
  const { engine, outputNames } = makeEngine(t);
  await engine.load();
  t.equal(engine.info.concurrency, PIPELINE_DEPTH, 'one worker, PIPELINE_DEPTH runs in flight');
  // Reference: each input alone.
  const seeds = [1, 2, 3, 4, 5];
  const alone: EngineOutputs[] = [];
  for (const s of seeds) alone.push(await engine.infer(input(s), 1));
  // All at once: two go to the worker immediately, the rest wait for a slot.
  const pending = seeds.map((s) => engine.infer(input(s), 1));
  await Promise.resolve();
  await Promise.resolve();
  const slots = (engine as unknown as { slots: { inflight: number }[] }).slots;
  t.equal(slots[0]?.inflight, 2, 'two runs posted to the one worker before any result came back');
  const together = await Promise.all(pending);
  seeds.forEach((s, i) => {
    for (const name of outputNames) t.same(Array.from(together[i]![name]!.data), Array.from(alone[i]![name]!.data), `seed ${s} ${name}`);
  });
  t.not(Array.from(alone[0]![outputNames[0]!]!.data).join(), Array.from(alone[1]![outputNames[0]!]!.data).join(), 'different inputs give different outputs (the pairing check can fail)');
});
