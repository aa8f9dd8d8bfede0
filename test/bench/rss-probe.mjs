// Where does the daemon's RSS go after hostile traffic? (issue #14 "RSS grew 162 → ~375 MiB after
// 1,000 fuzzed requests and a burst and did not come back"). Starts a REAL daemon (agent/dist, the
// unit's MALLOC_ARENA_MAX=2, the demo model 3×384×1248 on ONNX Runtime), sends rounds of fuzzed
// requests plus a burst, and after each round samples:
//   - /proc/<pid>/status VmRSS / RssAnon / RssFile,
//   - process.memoryUsage() through /metrics (nodejs_memory_bytes{kind}),
// then forces a full GC (SIGUSR2 → --heapsnapshot-signal writes a heap snapshot, which collects
// first) and samples again, then asks glibc to give freed memory back (gdb: malloc_trim(0)) and
// samples again. Heap/external that stay up after the GC = retained (a leak); RSS that drops at
// malloc_trim = allocator high-water (freed, not returned). Not part of `npm test` or `npm run
// bench`; results go to docs/operations.md "Memory".
//   node test/bench/rss-probe.mjs [--rounds 2] [--fuzz 1000] [--burst 64] [--env K=V ...]
import { Buffer } from 'node:buffer';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout } from 'node:timers';
import { fileURLToPath } from 'node:url';
// Node >= 18 has fetch as a global only (no node: module exports it).
const { fetch } = globalThis;
import sharp from 'sharp';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : dflt;
};
const extraEnv = Object.fromEntries(argv.flatMap((a, i) => (argv[i - 1] === '--env' ? [a.split('=')] : [])));
const ROUNDS = Number(opt('rounds', '2'));
const FUZZ = Number(opt('fuzz', '1000'));
const BURST = Number(opt('burst', '64'));

const dir = mkdtempSync(path.join(os.tmpdir(), 'rss-probe-'));
const env = {
  ...process.env,
  MALLOC_ARENA_MAX: '2',
  NODE_ENV: 'production',
  JETSON_AGENT_STATE_DIR: path.join(dir, 'state'),
  JETSON_AGENT_INFERENCE_PORT: '0',
  JETSON_AGENT_MQTT_EMBEDDED_PORT: '0',
  JETSON_AGENT_INFERENCE_INTRA_OP_THREADS: '1',
  JETSON_AGENT_HEALTH_INTERVAL_SEC: '3600',
  JETSON_AGENT_LOG_LEVEL: 'warn',
  ...extraEnv,
};
const child = spawn(process.execPath, ['--heapsnapshot-signal=SIGUSR2', path.join(ROOT, 'agent/dist/main.js'), 'run', '--log-level', 'info'], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
let log = '';
child.stdout.on('data', (d) => (log += d));
child.stderr.on('data', (d) => (log += d));
const waitLog = async (re) => {
  for (;;) {
    const m = re.exec(log);
    if (m) return m;
    if (child.exitCode !== null) throw new Error(`daemon exited:\n${log}`);
    await new Promise((r) => setTimeout(r, 100));
  }
};
const port = Number((await waitLog(/"port":(\d+)[^\n]*inference endpoint listening/))[1]);
await waitLog(/"msg":"model activated"/);
const base = `http://127.0.0.1:${port}`;

async function sample(label) {
  const st = readFileSync(`/proc/${child.pid}/status`, 'utf8');
  const field = (k) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(st)?.[1] ?? NaN);
  const m = await (await fetch(`${base}/metrics`)).text();
  const mem = (k) => Number(new RegExp(`^nodejs_memory_bytes\\{kind="${k}"\\} (\\d+)`, 'm').exec(m)?.[1] ?? NaN);
  const row = { label, rssMiB: +(field('VmRSS') / 1024).toFixed(1), anonMiB: +(field('RssAnon') / 1024).toFixed(1), fileMiB: +(field('RssFile') / 1024).toFixed(1), heapUsedMiB: +(mem('heapUsed') / 1048576).toFixed(1), heapTotalMiB: +(mem('heapTotal') / 1048576).toFixed(1), externalMiB: +(mem('external') / 1048576).toFixed(1), arrayBuffersMiB: +(mem('arrayBuffers') / 1048576).toFixed(1) };
  console.log(JSON.stringify(row));
  return row;
}

// Fuzz material: real JPEGs of several sizes, broken ones, random bytes, hostile KServe bodies.
const jpegs = await Promise.all(
  [
    [640, 480],
    [1280, 720],
    [1920, 1080],
    [4000, 3000],
  ].map(([w, h]) => sharp({ create: { width: w, height: h, channels: 3, noise: { type: 'gaussian', mean: 128, sigma: 40 } } }).jpeg({ quality: 85 }).toBuffer()),
);
let seed = 42;
const rnd = (n) => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) % n;
const randomBytes = (n) => {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i += 4) b.writeUInt32LE((seed = (seed * 1664525 + 1013904223) >>> 0), Math.min(i, n - 4));
  return b;
};
const per = 3 * 384 * 1248;
const kserve = (payload) => ({ url: '/v2/models/demo-yolov3/infer', headers: { 'content-type': 'application/json' }, body: payload });
const cases = [
  () => ({ url: '/v1/detect', headers: { 'content-type': 'image/jpeg' }, body: jpegs[rnd(jpegs.length)] }),
  () => ({ url: '/v1/detect', headers: { 'content-type': 'image/jpeg' }, body: jpegs[rnd(jpegs.length)].subarray(0, 1000 + rnd(50_000)) }),
  () => ({ url: '/v1/detect', headers: { 'content-type': 'image/jpeg' }, body: randomBytes(1 + rnd(15 * 1024 * 1024)) }),
  () => ({ url: '/v1/detect?threshold=' + ['abc', '2', '-1', '0.5'][rnd(4)], headers: { 'content-type': 'image/png' }, body: randomBytes(1 + rnd(100_000)) }),
  () => kserve('{"inputs":[null]}'),
  () => kserve(`{"inputs":[{"name":"Input","shape":[1,3,384,1248],"datatype":"FP32","data":${'['.repeat(10_000)}1${']'.repeat(10_000)}}]}`),
  () => kserve(JSON.stringify({ inputs: [{ name: 'Input', shape: [1, 3, 384, 1248], datatype: 'FP32', data: new Array(per).fill(0.5) }] })),
  () => ({ url: '/v2/models/demo-yolov3/infer', headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': '0' }, body: Buffer.alloc(per * 4) }),
  () => ({ url: '/v2/models/demo-yolov3/infer', headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': '' }, body: randomBytes(rnd(1_000_000) + 4) }),
];
const statuses = new Map();
async function send(c) {
  try {
    const res = await fetch(base + c.url, { method: 'POST', headers: c.headers, body: c.body });
    await res.arrayBuffer();
    statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
  } catch (err) {
    statuses.set(String(err.cause?.code ?? err.message), (statuses.get(String(err.cause?.code ?? err.message)) ?? 0) + 1);
  }
}
async function fuzz(n, concurrency = 4) {
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < n) {
      next++;
      await send(cases[rnd(cases.length)]());
    }
  }));
}
const burst = (n) => Promise.all(Array.from({ length: n }, () => send({ url: '/v1/detect', headers: { 'content-type': 'image/jpeg' }, body: jpegs[2] })));
const settle = (ms) => new Promise((r) => setTimeout(r, ms));

async function gcNow() {
  const before = readdirSync(dir).filter((f) => f.endsWith('.heapsnapshot')).length;
  child.kill('SIGUSR2');
  for (;;) {
    const snaps = readdirSync(dir).filter((f) => f.endsWith('.heapsnapshot'));
    if (snaps.length > before) {
      await settle(2000); // the snapshot is written after the GC; let it finish
      for (const f of snaps) rmSync(path.join(dir, f), { force: true });
      return;
    }
    await settle(200);
  }
}
function mallocTrim() {
  try {
    execFileSync('gdb', ['-p', String(child.pid), '-batch', '-ex', 'call (int)malloc_trim(0)'], { stdio: 'pipe', timeout: 60_000 });
    return true;
  } catch (err) {
    console.log(`# malloc_trim through gdb failed: ${String(err.message).split('\n')[0]}`);
    return false;
  }
}

console.log(`# node ${process.version}, ${os.cpus().length} cores, load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}, env ${JSON.stringify(extraEnv)}`);
await settle(3000);
await sample('ready (demo model warm)');
for (let r = 1; r <= ROUNDS; r++) {
  await fuzz(FUZZ);
  await burst(BURST);
  await settle(10_000);
  await sample(`round ${r}: ${FUZZ} fuzzed + ${BURST} burst, 10 s idle`);
  await gcNow();
  await sample(`round ${r}: after a full GC`);
  if (mallocTrim()) await sample(`round ${r}: after malloc_trim(0)`);
}
console.log(`# statuses ${JSON.stringify([...statuses])}`);
child.kill('SIGTERM');
await new Promise((r) => child.once('exit', r));
rmSync(dir, { recursive: true, force: true });
