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
  const rawHeader = Number(raw.headers['inference-header-content-length']);
  t.equal(raw.rawPayload.readInt32LE(rawHeader), counts[0], 'a raw binary request gets binary outputs; count first');

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

// The binary tensor data extension for outputs over a real socket (docs/reference/kserve-v2.md "Binary tensor data"): what a
// Triton client (tritonclient.http with binary_data=True) sends and how it splits the reply.
interface BinOut {
  name: string;
  shape: number[];
  datatype: string;
  data?: number[];
  parameters?: { binary_data_size: number };
}

/** Split a binary-extension response into its JSON header and one typed array per binary output. */
function splitBinary(body: Buffer, headerLength: number) {
  const head = JSON.parse(body.subarray(0, headerLength).toString('utf8')) as { id: string; outputs: BinOut[] };
  let off = headerLength;
  const tensors = new Map<string, number[]>();
  for (const o of head.outputs) {
    if (!o.parameters) continue;
    const n = o.parameters.binary_data_size;
    const chunk = body.subarray(off, off + n);
    off += n;
    const vals: number[] = [];
    for (let i = 0; i < n; i += 4) vals.push(o.datatype === 'INT32' ? chunk.readInt32LE(i) : chunk.readFloatLE(i));
    tensors.set(o.name, vals);
  }
  return { head, tensors, trailing: body.length - off };
}

t.test('KServe binary outputs over HTTP: binary_data_output, per-output binary_data, output selection', async (t) => {
  const s = makeStack();
  t.teardown(() => s.close());
  await s.service.activate(s.shelf.add('toy', '7', { height: 64, width: 96 }));
  await s.app.listen({ host: '127.0.0.1', port: 0 });
  const addr = s.app.server.address();
  const base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/v2/models/toy/infer`;
  const per = 3 * 64 * 96;
  const data = Array.from({ length: per }, (_, i) => ((i * 7) % 255) - 120); // item 0 of the test above: one detection
  const input = { name: 'Input', shape: [1, 3, 64, 96], datatype: 'FP32', data };
  const post = (payload: object) => fetch(base, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(payload) });

  const plain = await post({ inputs: [input] });
  t.equal(plain.status, 200);
  t.match(plain.headers.get('content-type'), /^application\/json/);
  t.equal(plain.headers.get('inference-header-content-length'), null, 'all-JSON reply: no binary header');
  const ref = new Map(((await plain.json()) as { outputs: BinOut[] }).outputs.map((o) => [o.name, o.data ?? []]));
  t.ok((ref.get('BatchedNMS')?.[0] ?? 0) > 0, 'the toy model detects something, so the values below are not all zeros');

  const all = await post({ id: 'b1', inputs: [input], parameters: { binary_data_output: true } });
  t.equal(all.status, 200);
  t.equal(all.headers.get('content-type'), 'application/octet-stream');
  const hl = Number(all.headers.get('inference-header-content-length'));
  const body = Buffer.from(await all.arrayBuffer());
  t.equal(Number(all.headers.get('content-length')), body.length, 'Content-Length is the whole body');
  const split = splitBinary(body, hl);
  t.equal(split.head.id, 'b1');
  t.same(split.head.outputs.map((o) => [o.name, o.shape, o.datatype, o.parameters?.binary_data_size, 'data' in o]), [
    ['BatchedNMS', [1, 1], 'INT32', 4, false],
    ['BatchedNMS_1', [1, 200, 4], 'FP32', 3200, false],
    ['BatchedNMS_2', [1, 200], 'FP32', 800, false],
    ['BatchedNMS_3', [1, 200], 'FP32', 800, false],
  ]);
  t.equal(split.trailing, 0, 'chunks fill the body exactly');
  for (const [name, vals] of split.tensors) t.same(vals, ref.get(name), `${name}: binary bytes decode to the JSON values`);

  // Per output: order as requested, binary_data overrides binary_data_output, unnamed outputs are left out.
  const mixed = await post({
    inputs: [input],
    parameters: { binary_data_output: true },
    outputs: [{ name: 'BatchedNMS_2' }, { name: 'BatchedNMS', parameters: { binary_data: false } }],
  });
  t.equal(mixed.status, 200);
  const m = splitBinary(Buffer.from(await mixed.arrayBuffer()), Number(mixed.headers.get('inference-header-content-length')));
  t.same(m.head.outputs.map((o) => o.name), ['BatchedNMS_2', 'BatchedNMS']);
  t.same(m.tensors.get('BatchedNMS_2'), ref.get('BatchedNMS_2'));
  t.same(m.head.outputs[1]?.data, ref.get('BatchedNMS'), 'binary_data: false stays JSON');
  t.equal(m.trailing, 0);

  const subset = await post({ inputs: [input], outputs: [{ name: 'BatchedNMS' }] });
  t.match(subset.headers.get('content-type'), /^application\/json/);
  t.same(((await subset.json()) as { outputs: BinOut[] }).outputs, [{ name: 'BatchedNMS', shape: [1, 1], datatype: 'INT32', data: ref.get('BatchedNMS') }]);

  // A binary request (JSON header + tensor bytes) asking for one binary output.
  const header = Buffer.from(JSON.stringify({ inputs: [{ name: 'Input', shape: [1, 3, 64, 96], datatype: 'FP32', parameters: { binary_data_size: per * 4 } }], outputs: [{ name: 'BatchedNMS_1', parameters: { binary_data: true } }] }));
  const binReq = await fetch(base, {
    method: 'POST',
    headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(header.length) },
    body: Buffer.concat([header, Buffer.from(new Float32Array(data).buffer)]),
  });
  t.equal(binReq.status, 200);
  const b = splitBinary(Buffer.from(await binReq.arrayBuffer()), Number(binReq.headers.get('inference-header-content-length')));
  t.same([...b.tensors.keys()], ['BatchedNMS_1']);
  t.same(b.tensors.get('BatchedNMS_1'), ref.get('BatchedNMS_1'));

  for (const [name, payload, msg] of [
    ['unknown output', { inputs: [input], outputs: [{ name: 'boxes' }] }, /Unknown output "boxes"/],
    ['non-boolean binary_data', { inputs: [input], outputs: [{ name: 'BatchedNMS', parameters: { binary_data: 'yes' } }] }, /binary_data.*true or false/],
    ['non-boolean binary_data_output', { inputs: [input], parameters: { binary_data_output: 1 } }, /binary_data_output/],
    ['duplicate output', { inputs: [input], outputs: [{ name: 'BatchedNMS' }, { name: 'BatchedNMS' }] }, /twice/],
  ] as const) {
    const r = await post(payload);
    t.equal(r.status, 400, name);
    const e = (await r.json()) as { code: string; error: string };
    t.equal(e.code, 'BAD_REQUEST', name);
    t.match(e.error, msg, name);
  }
});

t.test('KServe infer counts like /v1/detect: metrics, health window, probation counters', async (t) => {
  const s = makeStack();
  t.teardown(() => s.close());
  await s.service.activate(s.shelf.add('toy', '7', { height: 64, width: 96 }));
  const before = s.service.counters();
  const data = Array.from({ length: 3 * 64 * 96 }, () => 0.5);
  const ok = await s.app.inject({ method: 'POST', url: '/v2/models/toy/infer', payload: { inputs: [{ name: 'Input', datatype: 'FP32', shape: [1, 3, 64, 96], data }] } });
  t.equal(ok.statusCode, 200, ok.body);
  const bad = await s.app.inject({ method: 'POST', url: '/v2/models/toy/infer', payload: { inputs: [{ name: 'Input', datatype: 'FP32', shape: [1, 3, 2, 2], data: [0, 0, 0, 0] }] } });
  t.equal(bad.statusCode, 400, 'a wrong shape is the client’s error');
  const after = s.service.counters();
  t.same(
    { requests: after.requests - before.requests, errors: after.errors - before.errors, serverErrors: after.serverErrors - before.serverErrors },
    { requests: 2, errors: 1, serverErrors: 0 },
    'both requests counted; the 400 is not held against the model',
  );
  t.equal(s.service.stats(60_000).requests, 2, 'in the latency window health telemetry reads');
  const metrics = (await s.app.inject('/metrics')).body;
  t.match(metrics, /nv_inference_request_success\{model="toy",version="7"\} 1/);
  t.match(metrics, /nv_inference_request_failure\{model="toy",reason="BAD_REQUEST",version="7"\} 1/);
});

t.test('hostile KServe bodies answer 400 BAD_REQUEST with a message, never 500; nesting depth is bounded', async (t) => {
  const s = makeStack();
  t.teardown(() => s.close());
  await s.service.activate(s.shelf.add('toy', '7', { height: 8, width: 8 }));
  const per = 3 * 8 * 8;
  const json = (payload: string) => s.app.inject({ method: 'POST', url: '/v2/models/toy/infer', headers: { 'content-type': 'application/json' }, payload });
  const binary = (headerLen: string, payload: Buffer) =>
    s.app.inject({ method: 'POST', url: '/v2/models/toy/infer', headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': headerLen }, payload });
  const input = (data: string) => `{"inputs":[{"name":"Input","shape":[1,3,8,8],"datatype":"FP32","data":${data}}]}`;
  const deep = (n: number) => `${'['.repeat(n)}1${']'.repeat(n)}`;
  const raw = Buffer.alloc(per * 4);
  const cases: [string, Promise<{ statusCode: number; json<T>(): T }>, RegExp][] = [
    ['inputs [null]', json('{"inputs":[null]}'), /input tensor must be an object/],
    ['inputs [7]', json('{"inputs":[7]}'), /input tensor must be an object/],
    ['data nested 10,000 deep', json(input(deep(10_000))), /nested deeper than the 4 dimensions/],
    ['data nested 1,000,000 deep', json(input(deep(1_000_000))), /nested deeper than the 4 dimensions/],
    ['data nested 5 deep (rank 4)', json(input(deep(5))), /nested deeper than the 4 dimensions/],
    ['data with a string', json(input('["1"]')), /only finite numbers/],
    ['data not an array', json(input('{"a":1}')), /must be an array of numbers/],
    ['too many values', json(input(JSON.stringify(Array(per + 1).fill(0)))), /more than the 192 values/],
    ['parameters null', json('{"inputs":[{"name":"Input","shape":[1,3,8,8],"datatype":"FP32","parameters":null,"data":[1]}]}'), /parameters must be an object/],
    ['body is an array', json('[1]'), /a JSON object/],
    ['empty Inference-Header-Content-Length', binary('', raw), /Invalid Inference-Header-Content-Length ""/],
    ['blank Inference-Header-Content-Length', binary(' ', raw), /Invalid Inference-Header-Content-Length " "/],
    ['negative Inference-Header-Content-Length', binary('-1', raw), /Invalid Inference-Header-Content-Length/],
    ['header JSON is null', binary('4', Buffer.concat([Buffer.from('null'), raw])), /must be an object/],
  ];
  for (const [name, p, message] of cases) {
    const res = await p;
    t.equal(res.statusCode, 400, `${name}: 400`);
    t.match(res.json(), { code: 'BAD_REQUEST', error: message }, `${name}: coded, says what is wrong`);
  }
  // The same body size as a raw tensor, with a valid header value: still a valid request.
  t.equal((await binary('0', raw)).statusCode, 200, 'a raw tensor with Inference-Header-Content-Length 0 is served');
  t.equal((await json(input(JSON.stringify([Array.from({ length: 3 }, () => Array.from({ length: 8 }, () => new Array<number>(8).fill(0.5)))])))).statusCode, 200, 'data nested exactly like the shape is served');

  // Random damage to a valid request: whatever it becomes, the answer is a 2xx or a 4xx with a code.
  let seed = 7;
  const rnd = (n: number): number => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) % n;
  const junk = (): unknown => [null, 0, -1, 'x', true, [], {}, [null], { name: null }, Array(3).fill([[]])][rnd(10)];
  const valid = (): Record<string, unknown> => ({ id: 'f', inputs: [{ name: 'Input', shape: [1, 3, 8, 8], datatype: 'FP32', data: Array(per).fill(0.25) }], outputs: [{ name: 'BatchedNMS' }], parameters: {} });
  const damage = (v: unknown, depth: number): unknown => {
    if (depth > 3 || rnd(4) === 0) return junk();
    if (Array.isArray(v)) return v.length === 0 ? [junk()] : (v as unknown[]).map((x, i) => (i === 0 ? damage(x, depth + 1) : x));
    if (v && typeof v === 'object') {
      const o = { ...(v as Record<string, unknown>) };
      const keys = Object.keys(o);
      const k = keys[rnd(keys.length)];
      if (k !== undefined) o[k] = damage(o[k], depth + 1);
      return o;
    }
    return junk();
  };
  const statuses = new Map<number, number>();
  for (let i = 0; i < 150; i++) {
    const res = await json(JSON.stringify(damage(valid(), 0)));
    statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
    if (res.statusCode >= 500) t.fail(`fuzz case ${i}: ${res.statusCode} ${res.body}`);
    else if (res.statusCode >= 400) t.match(res.json(), { code: String, error: String });
  }
  t.ok((statuses.get(400) ?? 0) > 0, `fuzzed answers by status: ${JSON.stringify([...statuses])}`);
});
