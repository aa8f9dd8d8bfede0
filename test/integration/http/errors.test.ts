import t from 'tap';
import zlib from 'node:zlib';
import { makeStack, noisyJpeg } from '../../helpers/inference.js';

/** A valid PNG header claiming 60000×60000 pixels with a tiny IDAT: a decompression bomb. */
function pngBomb(): Buffer {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (b: Buffer) => {
    let c = 0xffffffff;
    for (const x of b) c = crcTable[(c ^ x) & 0xff]! ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type: string, data: Buffer) => {
    const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const c = Buffer.alloc(4);
    c.writeUInt32BE(crc(td));
    return Buffer.concat([len, td, c]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(60000, 0);
  ihdr.writeUInt32BE(60000, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', zlib.deflateSync(Buffer.alloc(1000))), chunk('IEND', Buffer.alloc(0))]);
}

t.test('bad input gets the documented status and code; the server keeps serving', async (t) => {
  const s = makeStack({ service: { maxPixels: 4_000_000 }, limits: { bodyLimitBytes: 2 * 1024 * 1024 } });
  t.teardown(() => s.close());
  await s.service.activate(s.shelf.add('toy', '1'));
  const jpeg = await noisyJpeg(320, 200);
  const post = (url: string, ct: string | undefined, payload: Buffer | string) =>
    s.app.inject({ method: 'POST', url, headers: ct ? { 'content-type': ct } : {}, payload });
  const cases: [string, Promise<{ statusCode: number; json<T>(): T; headers: Record<string, unknown> }>, number, string][] = [
    ['empty body', post('/v1/detect', 'image/jpeg', Buffer.alloc(0)), 400, 'IMAGE_UNDECODABLE'],
    ['truncated JPEG', post('/v1/detect', 'image/jpeg', jpeg.subarray(0, jpeg.length >> 1)), 400, 'IMAGE_UNDECODABLE'],
    ['text pretending to be a JPEG', post('/v1/detect', 'image/jpeg', Buffer.from('hello')), 400, 'IMAGE_UNDECODABLE'],
    ['PNG bomb (60000×60000 header)', post('/v1/detect', 'image/png', pngBomb()), 413, 'IMAGE_TOO_LARGE'],
    ['body over the limit', post('/v1/detect', 'image/jpeg', Buffer.alloc(3 * 1024 * 1024, 1)), 413, 'IMAGE_TOO_LARGE'],
    ['wrong content type (gif)', post('/v1/detect', 'image/gif', Buffer.from('GIF89a')), 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['JSON to /v1/detect', post('/v1/detect', 'application/json', '{"a":1}'), 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['non-numeric threshold', post('/v1/detect?threshold=abc', 'image/jpeg', jpeg), 400, 'BAD_REQUEST'],
    ['threshold out of range', post('/v1/detect?threshold=1.5', 'image/jpeg', jpeg), 400, 'BAD_REQUEST'],
    ['maxDetections not an integer', post('/v1/detect?maxDetections=2.5', 'image/jpeg', jpeg), 400, 'BAD_REQUEST'],
    ['unknown model', post('/v1/detect?model=nope', 'image/jpeg', jpeg), 404, 'MODEL_NOT_FOUND'],
    ['unknown route', post('/v1/nothing', 'image/jpeg', jpeg), 404, 'ROUTE_NOT_FOUND'],
  ];
  for (const [name, p, status, code] of cases) {
    const res = await p;
    t.equal(res.statusCode, status, `${name}: status`);
    t.equal(res.json<{ error: { code: string; message: string } }>().error.code, code, `${name}: code`);
  }
  const after = await post('/v1/detect', 'image/jpeg', jpeg);
  t.equal(after.statusCode, 200, 'still serving afterwards');
  const metrics = (await s.app.inject({ method: 'GET', url: '/metrics' })).body;
  t.match(metrics, /jetson_errors_total\{code="IMAGE_UNDECODABLE",route="\/v1\/detect"\} 3/);
  // A client's mistakes are errors but not server errors (what rollout probation judges a model by).
  const c = s.service.counters();
  t.ok(c.errors >= 3, `${c.errors} failed requests counted`);
  t.equal(c.serverErrors, 0, 'none of them is a server error');
});

t.test('no model → 503 + Retry-After; readiness follows activation', async (t) => {
  const s = makeStack();
  t.teardown(() => s.close());
  const res = await s.app.inject({ method: 'POST', url: '/v1/detect', headers: { 'content-type': 'image/jpeg' }, payload: await noisyJpeg(64, 64) });
  t.equal(res.statusCode, 503);
  t.equal(res.headers['retry-after'], '1');
  t.equal(res.json<{ error: { code: string } }>().error.code, 'MODEL_NOT_READY');
  t.match(s.service.counters(), { requests: 1, errors: 1, serverErrors: 1 }, 'no model to answer is a server error');
  t.equal((await s.app.inject('/healthz')).statusCode, 200, 'alive without a model');
  t.equal((await s.app.inject('/readyz')).statusCode, 503);
  t.equal((await s.app.inject('/v2/health/ready')).statusCode, 503);
  await s.service.activate(s.shelf.add('toy', '1'));
  t.equal((await s.app.inject('/readyz')).statusCode, 200);
  t.equal((await s.app.inject('/v2/health/ready')).statusCode, 200);
});

t.test('concurrent overload → 503 OVERLOADED with Retry-After, and the rest succeed', async (t) => {
  const s = makeStack({ service: { maxQueue: 2, maxBatch: 1 } });
  t.teardown(() => s.close());
  // A heavier model (tens of ms per run) so the queue surely fills.
  await s.service.activate(s.shelf.add('toy', '1', { height: 384, width: 640, extraConvs: 4 }));
  const jpeg = await noisyJpeg(320, 192);
  const all = await Promise.all(
    Array.from({ length: 24 }, () => s.app.inject({ method: 'POST', url: '/v1/detect', headers: { 'content-type': 'image/jpeg' }, payload: jpeg })),
  );
  const codes = all.map((r) => r.statusCode);
  const rejected = all.filter((r) => r.statusCode === 503);
  t.ok(rejected.length > 0, `some rejected (${codes.join(',')})`);
  t.ok(codes.every((c) => c === 200 || c === 503), 'only 200 or 503');
  for (const r of rejected) {
    t.equal(r.json<{ error: { code: string } }>().error.code, 'OVERLOADED');
    t.equal(r.headers['retry-after'], '1');
  }
  const after = await s.app.inject({ method: 'POST', url: '/v1/detect', headers: { 'content-type': 'image/jpeg' }, payload: jpeg });
  t.equal(after.statusCode, 200, 'serves again once the queue drained');
});

t.test('bearer token when configured; liveness stays open', async (t) => {
  const s = makeStack({ limits: { token: 's3cret' } });
  t.teardown(() => s.close());
  await s.service.activate(s.shelf.add('toy', '1'));
  t.equal((await s.app.inject('/healthz')).statusCode, 200);
  const no = await s.app.inject('/v1/models');
  t.equal(no.statusCode, 401);
  t.equal(no.json<{ error: { code: string } }>().error.code, 'UNAUTHORIZED');
  t.notMatch(no.body, /s3cret/, 'the token never appears in a response');
  t.equal((await s.app.inject({ url: '/v1/models', headers: { authorization: 'Bearer s3cret' } })).statusCode, 200);
});

t.test('memory returns to baseline after a burst of bad and good requests', async (t) => {
  const s = makeStack();
  t.teardown(() => s.close());
  await s.service.activate(s.shelf.add('toy', '1'));
  const jpeg = await noisyJpeg(640, 480);
  const burst = async () => {
    for (let i = 0; i < 20; i++) {
      await s.app.inject({ method: 'POST', url: '/v1/detect', headers: { 'content-type': 'image/jpeg' }, payload: jpeg });
      await s.app.inject({ method: 'POST', url: '/v1/detect', headers: { 'content-type': 'image/jpeg' }, payload: jpeg.subarray(0, 1000) });
    }
  };
  const gc = (globalThis as { gc?: () => void }).gc;
  await burst();
  gc?.();
  const base = process.memoryUsage().heapUsed;
  await burst();
  await burst();
  gc?.();
  const grown = process.memoryUsage().heapUsed - base;
  t.ok(grown < 32 * 1024 * 1024, `heap grew ${(grown / 1048576).toFixed(1)} MiB over 80 more requests`);
});
