import t from 'tap';
import { makeStack } from '../../helpers/inference.js';

t.test('KServe v2 metadata, readiness and infer (JSON and binary)', async (t) => {
  const s = makeStack();
  t.teardown(() => s.close());
  await s.service.activate(s.shelf.add('toy', '7', { height: 64, width: 96 }));
  t.equal((await s.app.inject('/v2/health/live')).statusCode, 200);
  t.match((await s.app.inject('/v2')).json(), { name: 'jetson-edge-agent', extensions: ['binary_tensor_data'] });
  const meta = (await s.app.inject('/v2/models/toy')).json<unknown>();
  t.same(meta, {
    name: 'toy',
    versions: ['7'],
    platform: 'onnxruntime_onnx',
    inputs: [{ name: 'Input', datatype: 'FP32', shape: [-1, 3, 64, 96] }],
    outputs: [
      { name: 'BatchedNMS', datatype: 'INT32', shape: [-1, 1] },
      { name: 'BatchedNMS_1', datatype: 'FP32', shape: [-1, 200, 4] },
      { name: 'BatchedNMS_2', datatype: 'FP32', shape: [-1, 200] },
      { name: 'BatchedNMS_3', datatype: 'FP32', shape: [-1, 200] },
    ],
  });
  t.equal((await s.app.inject('/v2/models/toy/ready')).statusCode, 200);
  t.equal((await s.app.inject('/v2/models/toy/versions/7/ready')).statusCode, 200);
  const missing = await s.app.inject('/v2/models/other/ready');
  t.equal(missing.statusCode, 404);
  t.match(missing.json(), { error: String, code: 'MODEL_NOT_FOUND' }, 'KServe error shape {error: string}');

  const n = 2;
  const per = 3 * 64 * 96;
  const data = Array.from({ length: n * per }, (_, i) => ((i * 7) % 255) - 120);
  const res = await s.app.inject({ method: 'POST', url: '/v2/models/toy/infer', payload: { id: 'r1', inputs: [{ name: 'Input', shape: [n, 3, 64, 96], datatype: 'FP32', data }] } });
  t.equal(res.statusCode, 200, res.body);
  const body = res.json<{ model_name: string; model_version: string; id: string; outputs: { name: string; shape: number[]; datatype: string; data: number[] }[] }>();
  t.match(body, { model_name: 'toy', model_version: '7', id: 'r1' });
  t.same(
    body.outputs.map((o) => [o.name, o.shape, o.datatype]),
    [
      ['BatchedNMS', [2, 1], 'INT32'],
      ['BatchedNMS_1', [2, 200, 4], 'FP32'],
      ['BatchedNMS_2', [2, 200], 'FP32'],
      ['BatchedNMS_3', [2, 200], 'FP32'],
    ],
  );
  const counts = body.outputs[0]!.data;
  const scores = body.outputs[2]!.data;
  t.ok(counts.every((c) => c >= 0 && c <= 200));
  t.ok(scores.slice(0, counts[0]).every((v, i, a) => i === 0 || a[i - 1]! >= v), 'scores sorted descending');

  // The same batch-item-0 tensor as the binary extension: JSON header + little-endian FP32.
  const f = new Float32Array(data.slice(0, per));
  const header = Buffer.from(JSON.stringify({ inputs: [{ name: 'Input', shape: [1, 3, 64, 96], datatype: 'FP32', parameters: { binary_data_size: f.byteLength } }] }));
  const bin = await s.app.inject({
    method: 'POST',
    url: '/v2/models/toy/infer',
    headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(header.length) },
    payload: Buffer.concat([header, Buffer.from(f.buffer)]),
  });
  t.equal(bin.statusCode, 200, bin.body);
  const bout = bin.json<{ outputs: { data: number[] }[] }>().outputs;
  t.equal(bout[0]?.data[0], counts[0], 'binary and JSON paths agree on item 0');
  t.same(bout[2]?.data.slice(0, 5), scores.slice(0, 5));
  const raw = await s.app.inject({
    method: 'POST',
    url: '/v2/models/toy/infer',
    headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': '0' },
    payload: Buffer.from(f.buffer),
  });
  t.equal(raw.statusCode, 200, 'raw binary request (header length 0)');
  t.equal(raw.json<{ outputs: { data: number[] }[] }>().outputs[0]?.data[0], counts[0]);

  for (const [name, payload, code] of [
    ['wrong shape', { inputs: [{ name: 'Input', shape: [1, 3, 32, 32], datatype: 'FP32', data: [] }] }, 'BAD_REQUEST'],
    ['wrong datatype', { inputs: [{ name: 'Input', shape: [1, 3, 64, 96], datatype: 'INT8', data: [] }] }, 'BAD_REQUEST'],
    ['too few values', { inputs: [{ name: 'Input', shape: [1, 3, 64, 96], datatype: 'FP32', data: [1, 2] }] }, 'BAD_REQUEST'],
    ['unknown input', { inputs: [{ name: 'image', shape: [1, 3, 64, 96], datatype: 'FP32', data: [] }] }, 'BAD_REQUEST'],
  ] as const) {
    const r = await s.app.inject({ method: 'POST', url: '/v2/models/toy/infer', payload });
    t.equal(r.statusCode, 400, name);
    t.match(r.json(), { code }, name);
  }
  const short = await s.app.inject({
    method: 'POST',
    url: '/v2/models/toy/infer',
    headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': '0' },
    payload: Buffer.alloc(100),
  });
  t.equal(short.statusCode, 400, 'short binary tensor');
});
