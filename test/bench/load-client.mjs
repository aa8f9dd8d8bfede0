// The serving benchmark's HTTP client, run as a SEPARATE process (test/bench/run.ts spawns it) so
// that its own work — building requests, parsing responses, autocannon's bookkeeping — does not
// run on the server's event loop. argv[2] is a JSON spec; the result is one JSON line on stdout.
//   {mode:"sequential", url, bodyFile, headers, runs, warmup}  → latencies + server stage timings
//   {mode:"load", url, bodyFile, headers, connections, seconds} → autocannon result
import { Buffer } from 'node:buffer';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';

const { fetch } = globalThis; // Node 20's built-in (undici)

const spec = JSON.parse(process.argv[2] ?? '{}');
const body = readFileSync(spec.bodyFile);

async function sequential() {
  const lat = [];
  const timings = [];
  for (let i = 0; i < (spec.warmup ?? 3); i++) await (await fetch(spec.url, { method: 'POST', headers: spec.headers, body })).arrayBuffer();
  for (let i = 0; i < spec.runs; i++) {
    const s = performance.now();
    const res = await fetch(spec.url, { method: 'POST', headers: spec.headers, body });
    const bytes = Buffer.from(await res.arrayBuffer());
    lat.push(performance.now() - s);
    if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${bytes.toString('utf8', 0, 500)}`);
    // /v1/detect answers JSON with `timings`; KServe binary replies carry no timings.
    if ((res.headers.get('content-type') ?? '').startsWith('application/json')) {
      const t = JSON.parse(bytes.toString('utf8')).timings;
      if (t) timings.push(t);
    }
  }
  return { lat, timings };
}

async function load() {
  const autocannon = createRequire(import.meta.url)('autocannon');
  const r = await autocannon({ url: spec.url, method: 'POST', body, headers: spec.headers, connections: spec.connections, duration: spec.seconds, pipelining: 1 });
  return { reqPerSec: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, non2xx: r.non2xx, errors: r.errors, total: r.requests.total };
}

const out = spec.mode === 'load' ? await load() : await sequential();
process.stdout.write(JSON.stringify(out) + '\n');
