/**
 * `npm run bench` (issue #5 §7, method: docs/reference/serving-runtime.md "Benchmark method"): in one run, on generated
 * TAO-YOLOv3-shaped models at 384×1248 and 192×320 —
 *   raw session.run p50/p99 (same threads as the server's worker) vs POST /v1/detect p50/p99 at
 *   concurrency 1 (1248×384 and 1920×1080 JPEGs) with the per-stage breakdown; throughput at
 *   concurrency 1/4/8 vs back-to-back raw throughput; KServe binary tensor path; event-loop
 *   delay of the server under load. The server runs in this process; every HTTP request comes
 *   from a separate client process (load-client.mjs), so the client's CPU work is not on the
 *   server's event loop. Prints a table, writes JSON to test/bench/results/. Ratios are
 *   compared within this run only.
 * Runs on Node (`node --import=./scripts/register-ts.mjs test/bench/run.ts`) and on Bun
 * (`node test/bench/with-bun.mjs test/bench/run.ts`, the pinned Bun running this TypeScript
 * directly): `npm run bench` does both, so the two serving tables stand side by side. The load
 * client is Node in both runs (BENCH_CLIENT_RUNTIME overrides), so only the server changes.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { constants as perfConstants, monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { prepareForOnnxRuntime } from '../../agent/src/models/onnx/prepare.js';
import { makeStack, noisyJpeg } from '../helpers/inference.js';
import { InferenceSection } from '../../agent/src/core/config/sections/inference.js';
import { describeRuntime, runtimeInfo } from '../../agent/src/platform/runtime.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const CLIENT = path.join(HERE, 'load-client.mjs');
const RUNTIME = runtimeInfo();
// The same client for both servers: Node (from PATH when this runs on Bun).
const CLIENT_RUNTIME = process.env.BENCH_CLIENT_RUNTIME ?? (RUNTIME.name === 'bun' ? 'node' : process.execPath);
// Bun accepts a 'gc' PerformanceObserver but JavaScriptCore reports no GC entries through it:
// its counts would read 0, so they are reported as null (not measured) there.
const GC_OBSERVABLE = RUNTIME.name === 'node';
const BODIES = mkdtempSync(path.join(os.tmpdir(), 'bench-bodies-'));
process.on('exit', () => rmSync(BODIES, { recursive: true, force: true }));
// Same rule as the daemon's default: leave one core for HTTP, sharp and JSON.
const THREADS = Math.max(1, os.availableParallelism() - 1);
const RAW_RUNS = 40;
const HTTP_RUNS = 40;
const LOAD_SECONDS = Number(process.env.BENCH_SECONDS ?? 6);
// The server's dynamic batcher limit: the daemon's inference.maxBatch default unless BENCH_MAX_BATCH is set (0 = by backend).
const MAX_BATCH = Number(process.env.BENCH_MAX_BATCH ?? (InferenceSection.properties.maxBatch.default as number));

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? NaN;
};
const r1 = (v: number): number => Math.round(v * 10) / 10;

interface Timings {
  decodeMs: number;
  preprocessMs: number;
  inferMs: number;
  postprocessMs: number;
  totalMs: number;
}

async function rawSession(bytes: Uint8Array, h: number, w: number) {
  const prepared = prepareForOnnxRuntime(bytes);
  const session = await ort.InferenceSession.create(prepared.model, {
    intraOpNumThreads: THREADS,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  });
  const input = new ort.Tensor('float32', new Float32Array(3 * h * w).fill(1), [1, 3, h, w]);
  for (let i = 0; i < 5; i++) await session.run({ Input: input });
  const lat: number[] = [];
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < RAW_RUNS; i++) {
    const s = performance.now();
    await session.run({ Input: input });
    lat.push(performance.now() - s);
  }
  const total = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  await session.release();
  // CPU time (all threads) per inference: unlike latency, barely inflated when other
  // processes compete for the cores.
  return { p50: r1(pct(lat, 0.5)), p99: r1(pct(lat, 0.99)), throughput: r1((RAW_RUNS * 1000) / total), cpuMsPerInference: r1((cpu.user + cpu.system) / 1000 / RAW_RUNS) };
}

/** Runs load-client.mjs in its own process with `spec` and returns its JSON result. */
async function client<T>(spec: Record<string, unknown>, body: Buffer): Promise<T> {
  const bodyFile = path.join(BODIES, `body-${Math.random().toString(36).slice(2)}`);
  writeFileSync(bodyFile, body);
  const child = spawn(CLIENT_RUNTIME, [CLIENT, JSON.stringify({ ...spec, bodyFile })], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  rmSync(bodyFile, { force: true });
  if (code !== 0) throw new Error(`load client exited ${code}`);
  return JSON.parse(out) as T;
}

async function sequential(url: string, body: Buffer, headers: Record<string, string>, runs: number) {
  const { lat, timings: stages } = await client<{ lat: number[]; timings: Timings[] }>({ mode: 'sequential', url, headers, runs, warmup: 3 }, body);
  const stage = (k: keyof Timings) => r1(pct(stages.map((x) => x[k]), 0.5));
  return {
    p50: r1(pct(lat, 0.5)),
    p99: r1(pct(lat, 0.99)),
    stagesP50: stages.length ? { decode: stage('decodeMs'), preprocess: stage('preprocessMs'), infer: stage('inferMs'), postprocess: stage('postprocessMs'), total: stage('totalMs') } : null,
    // Everything the client waited for that was not the inference itself (queue wait counts as infer).
    overheadP50: stages.length ? r1(pct(lat.map((l, i) => l - stages[i]!.inferMs), 0.5)) : null,
  };
}

async function load(url: string, body: Buffer, connections: number) {
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  // The main thread's garbage collections during the run: major GCs are the long pauses.
  const gc = { major: 0, minor: 0, ms: 0 };
  const gcObs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = (e as unknown as { detail?: { kind?: number } }).detail?.kind;
      if (kind === perfConstants.NODE_PERFORMANCE_GC_MAJOR) gc.major++;
      else if (kind === perfConstants.NODE_PERFORMANCE_GC_MINOR) gc.minor++;
      gc.ms += e.duration;
    }
  });
  gcObs.observe({ entryTypes: ['gc'] });
  const elu0 = performance.eventLoopUtilization();
  const cpu0 = process.cpuUsage();
  const res = await client<{ reqPerSec: number; p50: number; p99: number; non2xx: number; errors: number; total: number }>(
    { mode: 'load', url, headers: { 'content-type': 'image/jpeg' }, connections, seconds: LOAD_SECONDS },
    body,
  );
  loop.disable();
  gcObs.disconnect();
  const elu = performance.eventLoopUtilization(elu0);
  const cpu = process.cpuUsage(cpu0);
  return {
    connections,
    // Server main-thread busy time per request (event-loop utilisation × wall time ÷ requests):
    // the server's own JS work per request, less sensitive to a shared machine than latencies.
    mainThreadMsPerReq: res.total ? Math.round((elu.active / res.total) * 100) / 100 : null,
    mainThreadUtilisation: Math.round(elu.utilization * 100) / 100,
    // Server process CPU (main + ORT worker + libvips threads) per request; the client is another process.
    serverCpuMsPerReq: res.total ? r1((cpu.user + cpu.system) / 1000 / res.total) : null,
    reqPerSec: r1(res.reqPerSec),
    p50: res.p50,
    p99: res.p99,
    non2xx: res.non2xx,
    errors: res.errors,
    loopDelayP99Ms: r1(loop.percentile(99) / 1e6),
    loopDelayMaxMs: r1(loop.max / 1e6),
    gcPer100Req: res.total && GC_OBSERVABLE ? { major: r1((gc.major * 100) / res.total), minor: r1((gc.minor * 100) / res.total), ms: r1((gc.ms * 100) / res.total) } : null,
  };
}

async function benchSize(h: number, w: number, extraConvs: number) {
  const loadAvgStart = r1(os.loadavg()[0] ?? 0);
  // One worker with every core as intra-op threads: the same threads as the raw session.
  const stack = makeStack({ workers: 1, intraOpThreads: THREADS, service: { maxBatch: MAX_BATCH, batchDelayMs: InferenceSection.properties.batchDelayMs.default as number, maxQueue: 64, warmupRuns: 3 } });
  const servable = stack.shelf.add('bench', `${h}x${w}`, { height: h, width: w, seed: 1, extraConvs });
  const raw = await rawSession(stack.shelf.bytes.get(servable.kind === 'onnxruntime' ? servable.onnxPath : '')!, h, w);
  await stack.service.activate(servable);
  await stack.app.listen({ host: '127.0.0.1', port: 0 });
  const base = `http://127.0.0.1:${(stack.app.server.address() as AddressInfo).port}`;
  const jpegNet = await noisyJpeg(1248, 384, 11);
  const jpegHd = await noisyJpeg(1920, 1080, 12);
  const detect = `${base}/v1/detect`;
  const http1248 = await sequential(detect, jpegNet, { 'content-type': 'image/jpeg' }, HTTP_RUNS);
  const http1080 = await sequential(detect, jpegHd, { 'content-type': 'image/jpeg' }, HTTP_RUNS);
  const tensor = Buffer.from(new Float32Array(3 * h * w).fill(1).buffer);
  const kserve = await sequential(`${base}/v2/models/bench/infer`, tensor, { 'content-type': 'application/octet-stream', 'inference-header-content-length': '0' }, HTTP_RUNS);
  const throughput = [];
  for (const c of [1, 4, 8]) throughput.push(await load(detect, jpegNet, c));
  const metrics = await (await fetch(`${base}/metrics`)).text();
  const inf = Number(/nv_inference_count\{[^}]*\} (\d+)/.exec(metrics)?.[1] ?? 0);
  const exec = Number(/nv_inference_exec_count\{[^}]*\} (\d+)/.exec(metrics)?.[1] ?? 0);
  await stack.close();
  return {
    size: `${h}x${w}`,
    jpegBytes: { net: jpegNet.length, hd: jpegHd.length },
    raw,
    http: { jpeg1248x384: http1248, jpeg1920x1080: http1080, kserveBinaryTensor: kserve },
    overheadVsRawP50Ms: r1(http1248.p50 - raw.p50),
    throughput,
    throughputRatioC4: Math.round((throughput[1]!.reqPerSec / raw.throughput) * 100) / 100,
    throughputRatioC8: Math.round((throughput[2]!.reqPerSec / raw.throughput) * 100) / 100,
    averageBatch: exec ? r1(inf / exec) : null,
    // 1-minute load average before and after: a shared machine skews absolute numbers.
    loadAvg: [loadAvgStart, r1(os.loadavg()[0] ?? 0)],
  };
}

const machine = {
  cpu: os.cpus()[0]?.model ?? 'unknown',
  cores: os.availableParallelism(),
  memGiB: r1(os.totalmem() / 2 ** 30),
  platform: `${os.platform()} ${os.arch()} ${os.release()}`,
  node: process.version,
  runtime: describeRuntime(RUNTIME),
  onnxruntimeNode: (await import('onnxruntime-node/package.json', { with: { type: 'json' } })).default.version,
  sharp: sharp.versions.sharp,
  libvips: sharp.versions.vips,
};
const results = [];
// The heavier variant (extra stride-1 convolutions) brings session.run into the tens of ms,
// where a real detector sits on this class of CPU; the light one shows the fixed costs.
// BENCH_MODELS=384x1248+6,192x320+0 runs a subset.
const only = process.env.BENCH_MODELS?.split(',');
for (const [h, w, extra] of [
  [384, 1248, 6],
  [384, 1248, 0],
  [192, 320, 0],
] as const) {
  if (only && !only.includes(`${h}x${w}+${extra}`)) continue;
  process.stderr.write(`benchmarking ${h}x${w} (+${extra} convs) …\n`);
  results.push({ extraConvs: extra, ...(await benchSize(h, w, extra)) });
}

const rows: string[][] = [['model', 'raw p50/p99', 'detect 1248×384 p50/p99', 'stages p50 dec/pre/inf/post', 'overhead p50 (outside infer)', 'detect 1920×1080 p50/p99', 'kserve bin p50', 'raw inf/s', 'c1/c4/c8 req/s', 'c4/c8 ÷ raw', 'avg batch', 'loop p99 @c8', 'major GCs /100 req @c8', 'main ms/req @c4', 'CPU ms: raw/inf, server/req @c4', 'load avg']];
for (const r of results) {
  const st = r.http.jpeg1248x384.stagesP50;
  rows.push([
    `${r.size}+${r.extraConvs}`,
    `${r.raw.p50}/${r.raw.p99}`,
    `${r.http.jpeg1248x384.p50}/${r.http.jpeg1248x384.p99}`,
    st ? `${st.decode}/${st.preprocess}/${st.infer}/${st.postprocess}` : '-',
    `${r.http.jpeg1248x384.overheadP50}`,
    `${r.http.jpeg1920x1080.p50}/${r.http.jpeg1920x1080.p99}`,
    `${r.http.kserveBinaryTensor.p50}`,
    `${r.raw.throughput}`,
    r.throughput.map((x) => x.reqPerSec).join('/'),
    `${r.throughputRatioC4}/${r.throughputRatioC8}`,
    `${r.averageBatch}`,
    `${r.throughput[2]?.loopDelayP99Ms}`,
    `${r.throughput[2]?.gcPer100Req?.major}`,
    `${r.throughput[1]?.mainThreadMsPerReq}`,
    `${r.raw.cpuMsPerInference}/${r.throughput[1]?.serverCpuMsPerReq}`,
    r.loadAvg.join('→'),
  ]);
}
console.log(`server runtime: ${describeRuntime(RUNTIME)}`);
const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
for (const r of rows) console.log(r.map((c, i) => c.padEnd(widths[i]!)).join(' | '));
console.log('(ms unless noted; throughput at concurrency ≥ 4 vs raw back-to-back; errors: ' + results.flatMap((r) => r.throughput.map((x) => x.errors + x.non2xx)).join(',') + ')');
const dir = path.join(HERE, 'results');
mkdirSync(dir, { recursive: true });
const file = path.join(dir, `bench-${RUNTIME.name}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
writeFileSync(file, JSON.stringify({ machine, threads: THREADS, date: new Date().toISOString(), results }, null, 2));
console.log(`wrote ${path.relative(process.cwd(), file)}`);
