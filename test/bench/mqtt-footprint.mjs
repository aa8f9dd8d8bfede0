// Footprint benchmark (issue #6 §5): idle RSS and CPU of `jetson-agent run` with health every 5 s
// and no model loaded, over BENCH_SECONDS (default 60): in standalone mode (embedded aedes broker)
// and, with BENCH_BROKER=mosquitto, as on a fleet board (an external mosquitto; aedes not loaded).
// Reads /proc/<pid>/stat and /proc/<pid>/status of the real daemon process; counts MQTT messages
// with a real subscriber. No model: the demo model is switched off (BENCH_DEMO_MODEL=1 serves it,
// to measure the footprint with a model loaded). BENCH_RUNTIME=bun runs the daemon on the pinned Bun
// through bin/jetson-agent, as the unit does on JetPack 4 (the launcher execs, so the measured PID
// is Bun's). Usage: npm run build && node test/bench/mqtt-footprint.mjs
// Writes test/bench/results/mqtt-footprint[-fleet][-bun].json and prints a Markdown row for docs/benchmarks.md.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import net from 'node:net';
import mqtt from 'mqtt';
import { pinnedBun } from './with-bun.mjs';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
const seconds = Number(process.env.BENCH_SECONDS ?? 60);
const state = mkdtempSync(path.join(os.tmpdir(), 'bench-'));
const demoModel = process.env.BENCH_DEMO_MODEL === '1';
const env = { ...process.env, JETSON_AGENT_INFERENCE_DEMO_MODEL: String(demoModel), JETSON_AGENT_INFERENCE_PORT: '0', JETSON_AGENT_STATE_DIR: state, JETSON_AGENT_DEVICE_ID: 'bench-1', JETSON_AGENT_MQTT_EMBEDDED_PORT: '0', JETSON_AGENT_HEALTH_INTERVAL_SEC: '5', JETSON_AGENT_LOG_LEVEL: 'info' };
delete env.NODE_OPTIONS;
// Measure what ships: the agent unit's Environment= lines (NODE_ENV, MALLOC_ARENA_MAX) apply, as
// under systemd. BENCH_UNIT_ENV=0 measures a bare `node agent/dist/main.js run` instead.
const unitEnv = {};
if (process.env.BENCH_UNIT_ENV !== '0') {
  for (const line of readFileSync(path.join(root, 'systemd', 'jetson-agent.service'), 'utf8').split('\n')) {
    const m = /^Environment=([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (m) unitEnv[m[1]] = m[2];
  }
  Object.assign(env, unitEnv);
}
const fleetMode = process.env.BENCH_BROKER === 'mosquitto';
let mosquitto;
if (fleetMode) {
  const port = await new Promise((resolve) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const p = srv.address().port;
      srv.close(() => resolve(p));
    });
  });
  const conf = path.join(state, 'mosquitto.conf');
  writeFileSync(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\n`);
  mosquitto = spawn('mosquitto', ['-c', conf], { stdio: 'ignore' });
  await delay(500);
  env.JETSON_AGENT_MQTT_URL = `mqtt://127.0.0.1:${port}`;
}
const runtime = process.env.BENCH_RUNTIME === 'bun' ? 'bun' : 'node';
const nodeFlags = runtime === 'node' ? (process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean) : []; // e.g. --max-semi-space-size=2
let cmd = process.execPath;
let args = [...nodeFlags, path.join(root, 'agent', 'dist', 'main.js'), 'run'];
if (runtime === 'bun') {
  const bun = pinnedBun();
  if (!bun.exe) throw new Error(`BENCH_RUNTIME=bun needs ${bun.pkg} in node_modules (npm ci on linux ${process.arch} glibc)`);
  // The launcher picks the release's Bun from node_modules, as on a board (bin/runtime.sh).
  cmd = path.join(root, 'bin', 'jetson-agent');
  args = ['run'];
  env.JETSON_AGENT_RUNTIME = 'bun';
}
const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'inherit'] });
let out = '';
const url = await new Promise((resolve, reject) => {
  child.stdout.on('data', (d) => {
    out += d.toString();
    const m = fleetMode ? [null, env.JETSON_AGENT_MQTT_URL] : /"url":"(mqtt:\/\/127\.0\.0\.1:\d+)","msg":"embedded MQTT broker listening/.exec(out);
    if (m && /"msg":"agent ready"/.test(out)) resolve(m[1]);
  });
  child.on('exit', (c) => reject(new Error(`agent exited ${c}\n${out}`)));
});
const sub = await mqtt.connectAsync(url, { clientId: 'bench-sub' });
const counts = {};
let healthBytes = 0;
sub.on('message', (topic, payload) => {
  const kind = topic.split('/').pop();
  counts[kind] = (counts[kind] ?? 0) + 1;
  if (kind === 'health') healthBytes = payload.length;
});
await sub.subscribeAsync('jetson/v1/devices/bench-1/#', { qos: 1 });

const hz = 100; // USER_HZ on Linux
const cpuTicks = () => {
  const f = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(f[11]) + Number(f[12]); // utime + stime (fields 14, 15)
};
const statusKb = (field) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))[1]);
const rssKb = () => statusKb('VmRSS');
await delay(5000); // settle after start-up
const t0 = Date.now();
const c0 = cpuTicks();
const rss = [];
for (let i = 0; i < seconds; i++) {
  await delay(1000);
  rss.push(rssKb());
}
// Anonymous (JS heap, malloc, stacks) vs file-backed (the node binary's and libraries' pages) at the end.
const split = { anonMB: statusKb('RssAnon') / 1024, fileMB: statusKb('RssFile') / 1024 };
const cpuPct = ((cpuTicks() - c0) / hz / ((Date.now() - t0) / 1000)) * 100;
child.kill('SIGTERM');
const code = await new Promise((r) => child.on('exit', r));
await sub.endAsync(true);
mosquitto?.kill('SIGTERM');
rmSync(state, { recursive: true, force: true });
const result = {
  seconds,
  demoModel,
  broker: fleetMode ? 'external mosquitto (fleet board)' : 'embedded aedes (standalone)',
  runtime,
  nodeFlags,
  unitEnv,
  node: process.version,
  cpus: os.cpus().length,
  cpuModel: os.cpus()[0]?.model,
  idleRssMB: { max: Math.max(...rss) / 1024, maxAtSec: rss.indexOf(Math.max(...rss)) + 1, meanAfter10s: rss.slice(10).reduce((a, b) => a + b, 0) / Math.max(1, rss.length - 10) / 1024, mean: rss.reduce((a, b) => a + b, 0) / rss.length / 1024, endSplit: split },
  idleCpuPctOfOneCore: cpuPct,
  messages: counts,
  healthPayloadBytes: healthBytes,
  exitCode: code,
};
mkdirSync(path.join(root, 'test', 'bench', 'results'), { recursive: true });
writeFileSync(path.join(root, 'test', 'bench', 'results', `mqtt-footprint${fleetMode ? '-fleet' : ''}${runtime === 'bun' ? '-bun' : ''}.json`), JSON.stringify(result, null, 2) + '\n');
console.log(JSON.stringify(result, null, 2));
// A row in docs/benchmarks.md's footprint table: max / mean / at end (anon + file).
const r = result.idleRssMB;
console.log(`| ${new Date().toISOString().slice(0, 16).replace('T', ' ')} | ${result.broker}${nodeFlags.length ? `, ${nodeFlags.join(' ')}` : ''} | ${result.cpuModel} ×${result.cpus} | ${seconds} s | ${r.max.toFixed(1)} / ${r.mean.toFixed(1)} / ${(r.endSplit.anonMB + r.endSplit.fileMB).toFixed(1)} (${r.endSplit.anonMB.toFixed(1)} + ${r.endSplit.fileMB.toFixed(1)}) MB | ${result.idleCpuPctOfOneCore.toFixed(2)} % | ${counts.health ?? 0} health (${healthBytes} B) |`);
