import t from 'tap';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { silentLogger } from '../../../agent/src/core/log.js';
import { fromBf16, fromHalf, toBf16, toHalf } from '../../../agent/src/inference/trt/dtypes.js';
import { RunnerEngine } from '../../../agent/src/inference/trt/runner-engine.js';
import { buildStandinRunner, makeTensorrtStandinRoot, standinEngine, standinValue, type StandinTensorSpec, type TRT_DATATYPE } from '../../helpers/trt-standin.js';

// REAL g++ builds of agent/native/trt-runner/main.cpp with -Wall -Wextra -Wconversion
// -Wdeprecated-declarations -Werror against the TEST DOUBLE headers of each TensorRT API
// generation (test/fixtures/trt-standin: bindings 7.x, bindings 8.0–8.4, named tensors 8.5+,
// named tensors only 10.x), then the real runner process driven by the agent's RunnerEngine
// against the stub library. This proves the runner's dtype/shape handling and error mapping
// against the API contract as the public reference describes it, not against TensorRT: the real
// headers are checked by g++ -fsyntax-only and a GPU run is a board check
// (docs/hardware-validation.md).

type DT = keyof typeof TRT_DATATYPE;
const GENERATIONS: { version: string; api: string; dtypes: DT[]; implicit: boolean }[] = [
  { version: '7.1.3', api: 'bindings', dtypes: ['FP32', 'FP16', 'INT8', 'INT32', 'BOOL'], implicit: true },
  { version: '8.2.1', api: 'bindings', dtypes: ['FP32', 'FP16', 'INT8', 'INT32', 'BOOL'], implicit: true },
  { version: '8.6.2', api: 'named-tensors', dtypes: ['FP32', 'FP16', 'INT8', 'INT32', 'BOOL', 'UINT8', 'FP8'], implicit: true },
  { version: '10.3.0', api: 'named-tensors', dtypes: ['FP32', 'FP16', 'INT8', 'INT32', 'BOOL', 'UINT8', 'FP8', 'BF16', 'INT64'], implicit: false },
];

/** The value the agent's input element becomes in the engine's input dtype and back. */
function roundTrip(dtype: DT, v: number): number {
  if (dtype === 'FP16') return fromHalf(toHalf(v));
  if (dtype === 'BF16') return fromBf16(toBf16(v));
  if (dtype === 'INT8') return Math.max(-128, Math.min(127, Math.round(v)));
  if (dtype === 'UINT8') return Math.max(0, Math.min(255, Math.round(v)));
  if (dtype === 'BOOL') return v ? 1 : 0;
  if (dtype === 'INT32' || dtype === 'INT64') return Math.round(v);
  return Math.fround(v);
}

for (const gen of GENERATIONS) {
  t.test(`TensorRT ${gen.version} stand-in (${gen.api}): the runner compiles warning-free and carries every dtype and shape`, async (t) => {
    const dir = t.testdir({ root: {} });
    const s = makeTensorrtStandinRoot(path.join(dir, 'root'), gen.version);
    let runner: string;
    try {
      runner = buildStandinRunner(s, path.join(dir, 'trt-runner'));
    } catch (err) {
      const e = err as { stderr?: Buffer };
      t.fail(`main.cpp does not compile cleanly against the ${gen.version} stand-in:\n${e.stderr?.toString() ?? String(err)}`);
      return;
    }
    const engineFile = (name: string, spec: Parameters<typeof standinEngine>[0]): string => {
      const f = path.join(dir, `${name}.engine`);
      writeFileSync(f, standinEngine(spec));
      return f;
    };
    const engine = (file: string, inputShape: [number, number, number] = [3, 2, 2]): RunnerEngine =>
      new RunnerEngine({ runnerPath: runner, enginePath: file, inputShape, maxBatch: 4, requestTimeoutMs: 10_000, startTimeoutMs: 10_000, restartBackoffMs: [50, 500], log: silentLogger });

    // One engine per input dtype: an echo output of the input's dtype and shape, and one
    // pattern output [-1, 5] per dtype of this generation.
    for (const inDtype of gen.dtypes) {
      const outputs: StandinTensorSpec[] = [
        { io: 'out', name: 'echo', dtype: inDtype, dims: [-1, 3, 2, 2] },
        ...gen.dtypes.map((d): StandinTensorSpec => ({ io: 'out', name: `out_${d}`, dtype: d, dims: [-1, 5] })),
      ];
      const e = engine(engineFile(`in-${inDtype}`, { maxBatch: 4, tensors: [{ io: 'in', name: 'images', dtype: inDtype, dims: [-1, 3, 2, 2] }, ...outputs] }));
      t.teardown(() => e.unload());
      await e.load();
      t.same(e.info.inputName, 'images');
      t.same(e.info.outputNames, ['echo', ...gen.dtypes.map((d) => `out_${d}`)]);
      const input = Float32Array.from({ length: 2 * 12 }, (_, i) => (inDtype === 'BOOL' ? i % 2 : inDtype === 'UINT8' || inDtype === 'FP8' ? i % 12 : (i - 7) * 1.5));
      const out = await e.infer(input, 2);
      t.same(out.echo?.dims, [2, 3, 2, 2], `${inDtype}: echo shape`);
      t.same(Array.from(out.echo?.data ?? []), Array.from(input, (v) => (inDtype === 'FP8' ? v : roundTrip(inDtype, v))), `${inDtype} input: bytes carried both ways`);
      for (const d of gen.dtypes) {
        const o = out[`out_${d}`];
        t.same(o?.dims, [2, 5], `${d} output: the -1 batch dim resolved to 2 after setInputShape (never counted as 1)`);
        t.same(Array.from(o?.data ?? []), Array.from({ length: 10 }, (_, j) => standinValue(d, j)), `${d} output: decoded values`);
        t.ok(['FP32', 'FP16', 'BF16', 'FP8'].includes(d) ? o?.data instanceof Float32Array : o?.data instanceof Int32Array, `${d} output widened to the agent's tensor type`);
      }
      await e.unload();
    }

    // Errors are mapped, per request, and the runner keeps serving.
    const e = engine(
      engineFile('errors', {
        maxBatch: 2,
        failEnqueue: 2,
        tensors: [
          { io: 'in', name: 'images', dtype: 'FP32', dims: [-1, 3, 2, 2] },
          { io: 'out', name: 'out', dtype: 'FP32', dims: [-1, 5] },
        ],
      }),
    );
    t.teardown(() => e.unload());
    await e.load();
    t.ok(await e.infer(new Float32Array(12), 1), 'first request served');
    await t.rejects(e.infer(new Float32Array(12), 1), { code: 'ENGINE_FAILED', details: { runnerCode: 'ENQUEUE_FAILED' } }, 'enqueue returning false is an error frame');
    await t.rejects(e.infer(new Float32Array(36), 3), { code: 'ENGINE_FAILED', details: { runnerCode: 'SHAPE_REJECTED' }, message: /rejected shape \[3,3,2,2\] for input images/ }, 'a batch outside the profile');
    t.same((await e.infer(new Float32Array(24), 2)).out?.dims, [2, 5], 'still serving');
    await e.unload();

    const dyn = engine(engineFile('dynamic', { maxBatch: 2, tensors: [{ io: 'in', name: 'images', dtype: 'FP32', dims: [-1, 3, 2, 2] }, { io: 'out', name: 'boxes', dtype: 'FP32', dims: [-1, -1, 4] }] }));
    t.teardown(() => dyn.unload());
    await dyn.load();
    await t.rejects(dyn.infer(new Float32Array(12), 1), { details: { runnerCode: 'DATA_DEPENDENT_SHAPE' }, message: /output boxes has a data-dependent shape \[1,-1,4\]/ });
    await dyn.unload();

    const vec = engine(engineFile('chw4', { maxBatch: 2, tensors: [{ io: 'in', name: 'images', dtype: 'INT8', format: 3, dims: [-1, 3, 2, 2] }, { io: 'out', name: 'o', dtype: 'FP32', dims: [-1, 5] }] }));
    await t.rejects(vec.load(), { code: 'ENGINE_FAILED', details: { runnerCode: 'UNSUPPORTED_FORMAT' } }, 'a vectorized I/O format is refused at load');
    await vec.unload();
    if (gen.dtypes.includes('INT64')) {
      const int4 = engine(engineFile('int4', { maxBatch: 2, tensors: [{ io: 'in', name: 'images', dtype: 'FP32', dims: [-1, 3, 2, 2] }, { io: 'out', name: 'packed', dtype: 'INT4', dims: [-1, 8] }] }));
      await t.rejects(int4.load(), { details: { runnerCode: 'UNSUPPORTED_DTYPE' }, message: /packed has TensorRT DataType 9/ });
      await int4.unload();
    }

    if (gen.implicit) {
      // TAO UFF engines: per-image dims, batch through enqueue(batch, bindings).
      const imp = engine(engineFile('implicit', { implicit: true, maxBatch: 2, tensors: [{ io: 'in', name: 'Input', dtype: 'FP32', dims: [3, 2, 2] }, { io: 'out', name: 'BatchedNMS', dtype: 'INT32', dims: [1] }, { io: 'out', name: 'echo', dtype: 'FP32', dims: [3, 2, 2] }] }));
      t.teardown(() => imp.unload());
      await imp.load();
      const input = Float32Array.from({ length: 24 }, (_, i) => i);
      const out = await imp.infer(input, 2);
      t.same(out.BatchedNMS?.dims, [2, 1], 'implicit batch: the batch is prepended');
      t.same(Array.from(out.echo?.data ?? []), Array.from(input));
      await t.rejects(imp.infer(new Float32Array(36), 3), { details: { runnerCode: 'BATCH_TOO_LARGE' }, message: /exceeds the engine's max batch 2/ });
      await imp.unload();
    }
  });
}
