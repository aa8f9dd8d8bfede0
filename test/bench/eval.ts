/**
 * Evaluation benchmark (issue #16 "Speed"), part of `npm run bench`:
 *   1. serving throughput of the model: POST /v1/detect at concurrency 4 (load-client.mjs);
 *   2. evaluation throughput of the same model on an idle server: `jetson-fleet evaluate --url`
 *      over a generated KITTI set (its own process, like a fleet operator's) → images/s, and the
 *      ratio to (1) (target ≥ 0.9);
 *   3. live-request latency during an evaluation: p50/p99 of /v1/detect at concurrency 1 alone,
 *      while the low-priority evaluation runs, and while the same images are sent at normal
 *      priority with concurrency 3 (what an evaluation without the lane would do).
 * The server runs in this process; every client is a separate process. Prints a table, writes
 * JSON to test/bench/results/eval-*.json. Not run in tests: numbers on a shared machine mislead.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import { makeStack, noisyJpeg } from '../helpers/inference.js';
import { InferenceSection } from '../../agent/src/core/config/sections/inference.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const CLIENT = path.join(HERE, 'load-client.mjs');
const FLEET = path.join(HERE, '..', '..', 'agent', 'dist', 'bin', 'jetson-fleet.js');
const WORK = mkdtempSync(path.join(os.tmpdir(), 'bench-eval-'));
process.on('exit', () => rmSync(WORK, { recursive: true, force: true }));
const THREADS = Math.max(1, os.availableParallelism() - 1);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 6);
const IMAGES = Number(process.env.BENCH_EVAL_IMAGES ?? 60);
const H = 384;
const W = 1248;
const r1 = (v: number): number => Math.round(v * 10) / 10;

function run(cmd: string, args: string[]): Promise<string> {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve, reject) =>
    child.on('close', (code) => (code === 0 || code === 1 ? resolve(out) : reject(new Error(`${cmd} ${args.join(' ')} exited ${code}`)))),
  );
}

async function client<T>(spec: Record<string, unknown>, body: Buffer): Promise<T> {
  const bodyFile = path.join(WORK, `body-${Math.random().toString(36).slice(2)}`);
  writeFileSync(bodyFile, body);
  return JSON.parse(await run(process.execPath, [CLIENT, JSON.stringify({ ...spec, bodyFile })])) as T;
}

/** A KITTI set of photo-like JPEGs at the network size, each with one "car" label. */
async function makeSet(): Promise<string> {
  const dir = path.join(WORK, 'set');
  mkdirSync(path.join(dir, 'image'), { recursive: true });
  mkdirSync(path.join(dir, 'label'), { recursive: true });
  for (let i = 0; i < IMAGES; i++) {
    const id = String(i).padStart(6, '0');
    writeFileSync(path.join(dir, 'image', `${id}.jpg`), await noisyJpeg(W, H, 100 + i));
    writeFileSync(path.join(dir, 'label', `${id}.txt`), `car 0.00 0 0.00 ${100 + i} 100.00 ${300 + i} 250.00 1.5 1.6 3.8 0 0 0 0\n`);
  }
  return dir;
}

interface EvalOut {
  imagesPerSecond: number;
  evaluated: number;
  durationMs: number;
}
const evaluate = async (base: string, set: string): Promise<EvalOut> =>
  JSON.parse(await run(process.execPath, [FLEET, 'evaluate', '--url', base, '--dataset', set, '--allow-empty-class', '--json'])) as EvalOut;

const stack = makeStack({
  workers: 1,
  intraOpThreads: THREADS,
  service: { maxBatch: InferenceSection.properties.maxBatch.default as number, batchDelayMs: InferenceSection.properties.batchDelayMs.default as number, maxQueue: 64, warmupRuns: 3 },
});
const servable = stack.shelf.add('bench', `${H}x${W}`, { height: H, width: W, seed: 1 });
await stack.service.activate(servable);
await stack.app.listen({ host: '127.0.0.1', port: 0 });
const base = `http://127.0.0.1:${(stack.app.server.address() as AddressInfo).port}`;
const detect = `${base}/v1/detect`;
const set = await makeSet();
const jpeg = await noisyJpeg(W, H, 7);
const headers = { 'content-type': 'image/jpeg' };
type Load = { reqPerSec: number; p50: number; p99: number; errors: number; non2xx: number };

const serving = await client<Load>({ mode: 'load', url: detect, headers, connections: 4, seconds: SECONDS }, jpeg);
const idleEval = await evaluate(base, set);
const liveAlone = await client<Load>({ mode: 'load', url: detect, headers, connections: 1, seconds: SECONDS }, jpeg);
// Live traffic at concurrency 1 while the low-priority evaluation runs (the evaluation is started
// first; the live client measures for SECONDS or until then).
const evalDuring = evaluate(base, set);
const liveDuringLow = await client<Load>({ mode: 'load', url: detect, headers, connections: 1, seconds: SECONDS }, jpeg);
const evalUnderLive = await evalDuring;
// The same live client while the images come at normal priority (no lane): three connections.
const normalFlood = client<Load>({ mode: 'load', url: detect, headers, connections: 3, seconds: SECONDS + 1 }, jpeg);
const liveDuringNormal = await client<Load>({ mode: 'load', url: detect, headers, connections: 1, seconds: SECONDS }, jpeg);
await normalFlood;
await stack.close();

const result = {
  machine: { cpus: os.cpus()[0]?.model ?? '?', cores: os.availableParallelism(), loadAvg: os.loadavg().map(r1) },
  threads: THREADS,
  model: `${H}x${W} generated`,
  images: IMAGES,
  servingReqPerSecC4: r1(serving.reqPerSec),
  evalImagesPerSecIdle: r1(idleEval.imagesPerSecond),
  evalVsServing: Math.round((idleEval.imagesPerSecond / serving.reqPerSec) * 100) / 100,
  live: {
    alone: { p50: liveAlone.p50, p99: liveAlone.p99, reqPerSec: r1(liveAlone.reqPerSec) },
    duringLowPriorityEval: { p50: liveDuringLow.p50, p99: liveDuringLow.p99, reqPerSec: r1(liveDuringLow.reqPerSec) },
    duringNormalPriorityLoad: { p50: liveDuringNormal.p50, p99: liveDuringNormal.p99, reqPerSec: r1(liveDuringNormal.reqPerSec) },
  },
  evalImagesPerSecUnderLive: r1(evalUnderLive.imagesPerSecond),
  errors: [serving, liveAlone, liveDuringLow, liveDuringNormal].map((l) => l.errors + l.non2xx),
};
console.log('evaluation benchmark');
console.log(`  serving c4 ${result.servingReqPerSecC4} req/s; evaluation (idle) ${result.evalImagesPerSecIdle} img/s → ratio ${result.evalVsServing} (target ≥ 0.9)`);
console.log(`  live c1 p50/p99 ms: alone ${liveAlone.p50}/${liveAlone.p99}; during low-priority evaluation ${liveDuringLow.p50}/${liveDuringLow.p99}; during a normal-priority c3 load ${liveDuringNormal.p50}/${liveDuringNormal.p99}`);
console.log(`  evaluation under live traffic: ${result.evalImagesPerSecUnderLive} img/s; errors ${result.errors.join(',')}`);
const dir = path.join(HERE, 'results');
mkdirSync(dir, { recursive: true });
writeFileSync(path.join(dir, `eval-${new Date().toISOString().replace(/[:.]/g, '-')}.json`), JSON.stringify(result, null, 2));
