import t from 'tap';
import path from 'node:path';
import { writeFileSync } from 'node:fs';
import { silentLogger } from '../../../agent/src/core/log.js';
import { decodeError, decodeInfer, decodeResult, encodeError, encodeFrame, encodeInfer, encodeResult, FrameReader, FrameType, parseHello, type Frame } from '../../../agent/src/inference/trt/protocol.js';
import { RunnerEngine } from '../../../agent/src/inference/trt/runner-engine.js';
import type { Servable } from '../../../agent/src/core/contracts/model.js';
import { REPO_ROOT } from '../../helpers/cli.js';
import { makeStack, noisyJpeg } from '../../helpers/inference.js';

// The double speaks the runner's protocol without TensorRT: these tests prove the protocol,
// supervision and post-processing only (the TensorRT side: docs/hardware-validation.md).
const DOUBLE = path.join(REPO_ROOT, 'test', 'fixtures', 'bin', 'trt-runner-double.mjs');

function engineFile(dir: string, cfg: object): string {
  const f = path.join(dir, `engine-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(f, JSON.stringify({ inputShape: [3, 8, 8], keepTopK: 10, ...cfg }));
  return f;
}
const mk = (enginePath: string, timeout = 2000) =>
  new RunnerEngine({ runnerPath: DOUBLE, enginePath, inputShape: [3, 8, 8], maxBatch: 4, requestTimeoutMs: timeout, startTimeoutMs: 10_000, restartBackoffMs: [50, 500], log: silentLogger });

t.test('protocol: frames survive arbitrary chunking; RESULT and INFER round-trip dtype, shape and bytes', async (t) => {
  const counts = new Uint8Array(new Int32Array([3, 1]).buffer);
  const r = encodeResult(7, [
    { name: 'BatchedNMS', dtype: 'INT32', dims: [2, 1], bytes: counts },
    { name: 'BatchedNMS_2', dtype: 'FP16', dims: [2, 2], bytes: new Uint8Array(8) },
    { name: 'big', dtype: 'INT64', dims: [2 ** 40], bytes: new Uint8Array(0) },
  ]);
  const stream = Buffer.concat([encodeFrame(FrameType.HELLO, Buffer.from('{}')), r]);
  const reader = new FrameReader();
  const frames: Frame[] = [];
  for (let i = 0; i < stream.length; i += 3) frames.push(...reader.push(stream.subarray(i, i + 3)));
  t.same(frames.map((f) => f.type), [FrameType.HELLO, FrameType.RESULT]);
  const d = decodeResult(frames[1]!.payload);
  t.equal(d.id, 7);
  t.same(d.tensors.map((x) => [x.name, x.dtype, x.dims, x.bytes.byteLength]), [['BatchedNMS', 'INT32', [2, 1], 8], ['BatchedNMS_2', 'FP16', [2, 2], 8], ['big', 'INT64', [2 ** 40], 0]], 'dims are 64-bit');
  t.same(Array.from(d.tensors[0]!.bytes), Array.from(counts));
  const inf = decodeInfer(encodeInfer(9, [{ name: 'Input', dtype: 'UINT8', dims: [1, 3, 2, 2], bytes: new Uint8Array(12).fill(7) }]).subarray(5));
  t.same([inf.id, inf.tensors[0]?.dtype, inf.tensors[0]?.dims], [9, 'UINT8', [1, 3, 2, 2]]);
  t.throws(() => decodeResult(frames[1]!.payload.subarray(0, 20)), /truncated/);
  t.throws(() => new FrameReader().push(Buffer.from([0xff, 0xff, 0xff, 0xff, 1])), /exceeds/);
  t.same(decodeError(encodeError(3, 'INPUT_SHAPE', 'input x is [1,3]').subarray(5)), { id: 3, code: 'INPUT_SHAPE', message: 'input x is [1,3]' });
  t.throws(() => parseHello(Buffer.from(JSON.stringify({ tensorrt: '8.5.2', inputs: [], outputs: [] }))), /speaks protocol 1, this agent 2/, 'a runner built by an older agent is refused');
});

t.test('runner engine: hello, batched inference, error frames', async (t) => {
  const dir = t.testdir();
  const e = mk(engineFile(dir, { errorOnRequest: 2 }));
  t.teardown(() => e.unload());
  await e.load();
  t.same(e.info.outputNames, ['BatchedNMS', 'BatchedNMS_1', 'BatchedNMS_2', 'BatchedNMS_3']);
  const out = await e.infer(new Float32Array(2 * 192).fill(100), 2);
  t.same(out.BatchedNMS?.dims, [2, 1]);
  t.same(Array.from(out.BatchedNMS!.data), [1, 1]);
  t.same(out.BatchedNMS_1?.dims, [2, 10, 4]);
  t.equal(out.BatchedNMS_2?.data[0], Math.fround(0.6), 'the double saw the input (mean 100)');
  await t.rejects(e.infer(new Float32Array(192), 1), { code: 'ENGINE_FAILED', message: /\[ENQUEUE_FAILED\]: execution failed/, details: { runnerCode: 'ENQUEUE_FAILED' } });
  t.ok(await e.infer(new Float32Array(192), 1), 'serves after an error frame');
});

t.test('runner engine: a crash fails the in-flight request, the runner restarts, later requests succeed', async (t) => {
  const dir = t.testdir();
  const e = mk(engineFile(dir, { crashOnRequest: 2 }));
  t.teardown(() => e.unload());
  await e.load();
  await e.infer(new Float32Array(192), 1);
  await t.rejects(e.infer(new Float32Array(192), 1), { code: 'ENGINE_FAILED', message: /exited/ });
  const again = await e.infer(new Float32Array(192), 1);
  t.same(Array.from(again.BatchedNMS!.data), [1], 'restarted runner answers');
});

t.test('runner engine: a hung runner is TIMEOUT and restarted; start errors are ENGINE_FAILED', async (t) => {
  const dir = t.testdir();
  const e = mk(engineFile(dir, { hangOnRequest: 1, onceFile: path.join(dir, 'hung-once') }), 300);
  t.teardown(() => e.unload());
  await e.load();
  await t.rejects(e.infer(new Float32Array(192), 1), { code: 'TIMEOUT' });
  t.ok(await e.infer(new Float32Array(192), 1), 'fresh runner after the timeout');
  const bad = mk(engineFile(dir, { startError: 'engine plan version mismatch' }));
  await t.rejects(bad.load(), { code: 'ENGINE_FAILED', message: /plan version mismatch/ });
  await bad.unload();
  const old = mk(engineFile(dir, { protocol: 1 }));
  await t.rejects(old.load(), { code: 'ENGINE_FAILED', message: /speaks protocol 1/, hint: /runner build --force/ });
  await old.unload();
  const other = mk(engineFile(dir, { inputShape: [3, 16, 16] }));
  await t.rejects(other.load(), { code: 'ENGINE_FAILED', message: /Engine input Input is \[-1,3,16,16\] but the model is \[batch,3,8,8\]/ });
  await other.unload();
});

t.test('a tensorrt servable serves /v1/detect through the runner', async (t) => {
  const dir = t.testdir();
  const s = makeStack({ trtRunner: DOUBLE });
  t.teardown(() => s.close());
  const onnx = s.shelf.add('toy', '1', { height: 8, width: 8 });
  const trt: Servable = { kind: 'tensorrt', enginePath: engineFile(dir, {}), model: { ...onnx.model, name: 'trt', version: 'e1', input: { ...onnx.model.input, height: 8, width: 8, resize: 'stretch' } }, packageSha256: 'x' };
  await s.service.activate(trt);
  const res = await s.app.inject({ method: 'POST', url: '/v1/detect?threshold=0.1', headers: { 'content-type': 'image/jpeg' }, payload: await noisyJpeg(200, 100) });
  t.equal(res.statusCode, 200, res.body);
  const body = res.json<{ model: { version: string }; detections: { label: string; box: object }[] }>();
  t.equal(body.model.version, 'e1');
  t.same(body.detections.map((d) => [d.label, d.box]), [['cyclist', { x1: 50, y1: 25, x2: 150, y2: 75 }]], 'normalised box mapped to image pixels');
  const meta = (await s.app.inject('/v2/models/trt')).json<{ platform: string }>();
  t.equal(meta.platform, 'tensorrt_plan');
});
