import t from 'tap';
import sharp from 'sharp';
import { makeStack, noisyJpeg } from '../../helpers/inference.js';

t.test('POST /v1/detect with a real model, real decode, real ONNX Runtime', async (t) => {
  const s = makeStack();
  t.teardown(() => s.close());
  await s.service.activate(s.shelf.add('toy', '1', { seed: 3 }));
  const jpeg = await noisyJpeg(640, 360);
  const res = await s.app.inject({ method: 'POST', url: '/v1/detect?threshold=0.2', headers: { 'content-type': 'image/jpeg' }, payload: jpeg });
  t.equal(res.statusCode, 200, res.body);
  const body = res.json<{
    model: { name: string; version: string };
    image: { width: number; height: number };
    detections: { label: string; classId: number; score: number; box: { x1: number; y1: number; x2: number; y2: number } }[];
    timings: Record<string, number>;
  }>();
  t.same(body.model, { name: 'toy', version: '1' });
  t.same(body.image, { width: 640, height: 360 });
  t.ok(body.detections.length > 0, `the toy model finds something (${body.detections.length})`);
  for (const d of body.detections) {
    t.ok(['car', 'cyclist', 'pedestrian'].includes(d.label) && d.score >= 0.2, 'labelled and above threshold');
    t.ok(d.box.x1 >= 0 && d.box.y1 >= 0 && d.box.x2 <= 639 && d.box.y2 <= 359 && d.box.x2 > d.box.x1 && d.box.y2 > d.box.y1, 'box in image pixels');
  }
  for (const k of ['decodeMs', 'preprocessMs', 'inferMs', 'postprocessMs', 'totalMs']) t.type(body.timings[k], 'number', k);

  const fewer = await s.app.inject({ method: 'POST', url: '/v1/detect?threshold=0.2&maxDetections=1', headers: { 'content-type': 'image/jpeg' }, payload: jpeg });
  t.equal(fewer.json<{ detections: unknown[] }>().detections.length, 1, 'maxDetections caps the list');

  const png = await sharp(jpeg).png().toBuffer();
  const r2 = await s.app.inject({ method: 'POST', url: '/v1/detect?model=toy', headers: { 'content-type': 'image/png' }, payload: png });
  t.equal(r2.statusCode, 200, 'PNG accepted');

  const metrics = await s.app.inject({ method: 'GET', url: '/metrics' });
  t.match(metrics.headers['content-type'], /text\/plain/);
  t.match(metrics.body, /nv_inference_request_success\{model="toy",version="1"\} 3/);
  t.match(metrics.body, /jetson_inference_stage_duration_seconds_count\{stage="decode"\} 3/);
  t.match(metrics.body, /jetson_http_requests_total\{code="200",route="\/v1\/detect"\} 3/);
  t.match(metrics.body, /jetson_model_info\{backend="onnxruntime",name="toy",role="active",version="1"\} 1/);
  t.match(metrics.body, /nodejs_eventloop_delay_seconds\{quantile="0.99"\}/);
  // RSS beside what V8 and Buffers hold: how an operator tells a leak from allocator high-water (docs/operations.md "Memory").
  const mem: Record<string, number> = Object.fromEntries([...metrics.body.matchAll(/^nodejs_memory_bytes\{kind="(\w+)"\} (\d+)$/gm)].map((m): [string, number] => [m[1] ?? '', Number(m[2])]));
  t.same(Object.keys(mem).sort(), ['arrayBuffers', 'external', 'heapTotal', 'heapUsed', 'rss'], `memory gauge by kind: ${JSON.stringify(mem)}`);
  t.ok(mem.rss! > mem.heapTotal! && mem.heapTotal! >= mem.heapUsed! && mem.heapUsed! > 0 && mem.external! >= mem.arrayBuffers!, 'the kinds relate as process.memoryUsage() documents');
});

t.test('the same image letterboxed at different sizes gives the same boxes in original pixels', async (t) => {
  const s = makeStack();
  t.teardown(() => s.close());
  await s.service.activate(s.shelf.add('toy', '1', { seed: 3, height: 96, width: 160 }));
  // 320×180 and 640×360 of the same content: boxes must scale by exactly 2 (± resampling).
  const big = await noisyJpeg(640, 360, 9);
  const small = await sharp(big).resize(320, 180).jpeg({ quality: 95 }).toBuffer();
  const ask = async (img: Buffer) =>
    (await s.app.inject({ method: 'POST', url: '/v1/detect?threshold=0.25', headers: { 'content-type': 'image/jpeg' }, payload: img })).json<{
      detections: { box: { x1: number; x2: number } }[];
    }>().detections;
  const a = await ask(big);
  const b = await ask(small);
  t.ok(a.length > 0 && b.length > 0);
  t.ok(Math.abs(a[0]!.box.x1 - 2 * b[0]!.box.x1) < 12 && Math.abs(a[0]!.box.x2 - 2 * b[0]!.box.x2) < 12, `top box ${JSON.stringify(a[0])} ≈ 2 × ${JSON.stringify(b[0])}`);
});

t.test('inference.maxBatch 0: ONNX Runtime runs every image alone; an explicit limit batches', async (t) => {
  const jpeg = await noisyJpeg(640, 360);
  const execs = async (maxBatch: number): Promise<{ images: number; runs: number }> => {
    // A 50 ms batch delay makes the idle engine wait for company, so a limit > 1 does batch.
    const s = makeStack({ service: { maxBatch, batchDelayMs: 50 } });
    t.teardown(() => s.close());
    await s.service.activate(s.shelf.add('toy', '1', { seed: 3 }));
    const before = await s.app.inject({ method: 'GET', url: '/metrics' });
    const count = (body: string, name: string): number => Number(new RegExp(`${name}\\{[^}]*\\} (\\d+)`).exec(body)?.[1] ?? 0);
    const res = await Promise.all(Array.from({ length: 4 }, () => s.app.inject({ method: 'POST', url: '/v1/detect', headers: { 'content-type': 'image/jpeg' }, payload: jpeg })));
    t.same(res.map((r) => r.statusCode), [200, 200, 200, 200]);
    const after = (await s.app.inject({ method: 'GET', url: '/metrics' })).body;
    return { images: count(after, 'nv_inference_count') - count(before.body, 'nv_inference_count'), runs: count(after, 'nv_inference_exec_count') - count(before.body, 'nv_inference_exec_count') };
  };
  const auto = await execs(0);
  t.same(auto, { images: 4, runs: 4 }, 'auto: batch 1 on the CPU backend');
  const batched = await execs(4);
  t.equal(batched.images, 4);
  t.ok(batched.runs < 4, `maxBatch 4 formed batches (${batched.runs} runs for 4 images)`);
});

t.test('per-request classes filter the labels; iou is refused where the NMS is the plugin\'s; unknown labels are named', async (t) => {
  const s = makeStack();
  t.teardown(() => s.close());
  await s.service.activate(s.shelf.add('toy', '1', { seed: 3 }));
  const jpeg = await noisyJpeg(640, 360);
  const ask = (q: string) => s.app.inject({ method: 'POST', url: `/v1/detect?${q}`, headers: { 'content-type': 'image/jpeg' }, payload: jpeg });
  const all = (await ask('threshold=0')).json<{ detections: { label: string }[] }>().detections;
  t.ok(all.length > 0, 'the toy model finds something');
  const only = all[0]!.label;
  const others = ['car', 'cyclist', 'pedestrian'].filter((l) => l !== only);
  const rest = (await ask(`threshold=0&classes=${others.join(',')}`)).json<{ detections: { label: string }[] }>().detections;
  t.same(rest, all.filter((d) => d.label !== only), `classes=${others.join(',')} drops every ${only}`);
  const filtered = await ask(`threshold=0&classes=${only}`);
  t.equal(filtered.statusCode, 200, filtered.body);
  const got = filtered.json<{ detections: { label: string }[] }>().detections;
  t.ok(got.length > 0 && got.every((d) => d.label === only), `only ${only} (${got.length})`);
  t.equal(got.length, all.filter((d) => d.label === only).length, 'and every one of them');
  const iou = await ask('iou=0.5');
  t.equal(iou.statusCode, 400);
  t.match(iou.json(), { error: { code: 'REQUEST_OPTION_UNSUPPORTED', message: /tao-batched-nms/ } });
  const unknown = await ask('classes=tram');
  t.equal(unknown.statusCode, 400);
  t.match(unknown.json(), { error: { code: 'BAD_REQUEST', message: /tram/ } });
});
