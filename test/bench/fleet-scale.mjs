// Fleet scale benchmark (issue #7 §6): 1,000 SIMULATED devices through a real mosquitto,
// a 4-wave rollout with 2% injected failures, then the abort threshold with 20% failures.
// Runs the compiled CLI from agent/dist (npm run bench builds first). Prints a table and
// writes JSON to test/bench/results/. Not part of `npm test`: timing belongs here.
import { spawn } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setInterval, clearInterval, setTimeout, clearTimeout } from 'node:timers';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { buildManifest } from '../../agent/dist/fleet/manifest.js';
import { signManifest } from '../../agent/dist/fleet/manifest-sign.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const FLEET = path.join(ROOT, 'agent', 'dist', 'bin', 'jetson-fleet.js');
const N = Number(process.env.BENCH_DEVICES ?? 1000);
const STEP_MS = Number(process.env.BENCH_STEP_MS ?? 100);

async function freePort() {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function startMosquitto(dir) {
  const port = await freePort();
  const conf = path.join(dir, 'mosquitto.conf');
  // Anonymous on loopback only: the benchmark measures the protocol, not auth. sys_interval 1 for $SYS counters.
  // Notices and connection messages: the run reports how many clients the broker timed out and
  // whether it dropped messages to a slow subscriber (both have broken 10,000-device runs before).
  writeFileSync(conf, ['per_listener_settings false', 'allow_anonymous true', 'sys_interval 1', 'max_queued_messages 10000', `listener ${port} 127.0.0.1`, 'log_type error', 'log_type warning', 'log_type notice', 'connection_messages true', ''].join('\n'));
  const proc = spawn('mosquitto', ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  const notes = { timeouts: 0, dropping: 0, disconnects: 0 };
  proc.stderr.on('data', (d) => {
    const text = d.toString();
    notes.timeouts += (text.match(/has exceeded timeout/g) ?? []).length;
    notes.dropping += (text.match(/Outgoing messages are being dropped/g) ?? []).length;
    notes.disconnects += (text.match(/ disconnected[.,]/g) ?? []).length;
    log = (log + text).slice(-20000);
  });
  for (let i = 0; i < 50; i++) {
    await sleep(100);
    if (await canConnect(port)) return { port, url: `mqtt://127.0.0.1:${port}`, proc, log: () => log, notes: () => ({ ...notes }) };
  }
  throw new Error(`mosquitto did not start: ${log}`);
}

async function canConnect(port) {
  const c = mqtt.connect(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0, connectTimeout: 500 });
  return new Promise((resolve) => {
    c.once('connect', () => c.end(true, () => resolve(true)));
    c.once('error', () => (c.end(true), resolve(false)));
  });
}

/** $SYS/broker/messages/{received,sent} (mosquitto counts PUBLISH packets both ways). */
async function sysCounters(url) {
  const c = await mqtt.connectAsync(url, { clientId: `bench-sys-${randomBytes(3).toString('hex')}` });
  const got = {};
  c.on('message', (t, p) => (got[t] = Number(p.toString())));
  // publish/messages/* count PUBLISH packets only (not PUBACK/PINGREQ); the $SYS publications themselves
  // are not received from clients, but they are sent to this one subscriber, so `sent` includes a few.
  await c.subscribeAsync(['$SYS/broker/publish/messages/received', '$SYS/broker/publish/messages/sent']);
  await sleep(1500);
  await c.endAsync();
  return got;
}

/**
 * The simulated fleet, split over processes of at most SIM_PER_PROC devices (`--first-index`):
 * one Node process holding 10,000 MQTT connections spent its time on keepalive timers and
 * TLS-less socket callbacks and fell behind its own devices' reports on a shared 2-core box.
 */
const SIM_PER_PROC = Number(process.env.BENCH_SIM_PER_PROC ?? 2500);
async function startSimulator(url, pub, group, failRate) {
  const procs = [];
  for (let first = 0; first < N; first += SIM_PER_PROC) {
    const count = Math.min(SIM_PER_PROC, N - first);
    const proc = spawn(process.execPath, [FLEET, 'simulate', '--devices', String(count), '--first-index', String(first), '--group', group, '--id-prefix', `sim-${group}`, '--fail-rate', String(failRate), '--delay-ms', String(STEP_MS), '--broker', url, '--public-key', pub], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    proc.stderr.on('data', (d) => (err += d.toString()));
    procs.push(
      new Promise((resolve, reject) => {
        proc.stdout.on('data', (d) => {
          if (/ready:/.test(d.toString())) resolve(proc);
        });
        proc.once('exit', (code) => reject(new Error(`simulator exited ${code}: ${err}`)));
      }),
    );
  }
  const started = await Promise.all(procs);
  return {
    kill: (sig) => started.forEach((p) => p.kill(sig)),
    exited: () => Promise.all(started.map((p) => (p.exitCode !== null ? undefined : new Promise((r) => p.once('exit', r))))),
  };
}

function procSample(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const hwm = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024;
    return { cpuTicks: Number(f[11]) + Number(f[12]), hwm };
  } catch {
    return undefined;
  }
}

async function rollout(url, manifestFile, keyFile, group, extra) {
  const args = [FLEET, 'rollout', 'start', '--manifest', manifestFile, '--key', keyFile, '--target', `group:${group}`, '--waves', '1,10%,50%,100%', '--health-gate', '0s', '--wave-timeout', '2m', '--broker', url, '--json', ...extra];
  const t0 = process.hrtime.bigint();
  const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stdout.on('data', (d) => (out += d.toString()));
  proc.stderr.on('data', (d) => (err += d.toString()));
  let last;
  // A zombie's /proc/PID/status has no VmHWM: keep the last live sample.
  const timer = setInterval(() => {
    const s = procSample(proc.pid);
    if (s && s.hwm > 0) last = s;
  }, 200);
  // A controller that hangs is a result too (exit null), not a bench that never ends.
  const limit = setTimeout(() => proc.kill('SIGKILL'), Number(process.env.BENCH_TIMEOUT_S ?? 300) * 1000);
  const code = await new Promise((resolve) => proc.once('exit', resolve));
  clearTimeout(limit);
  clearInterval(timer);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const ticks = 100; // USER_HZ on Linux
  let result;
  try {
    result = JSON.parse(out);
  } catch {
    result = { raw: out, stderr: err.slice(-2000) };
  }
  return { code, seconds, rssMB: last ? last.hwm / 1048576 : null, cpuSeconds: last ? last.cpuTicks / ticks : null, result, stderrTail: code === 0 ? undefined : err.split('\n').slice(-3).join('\n') };
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'fleet-bench-'));
const { publicKey, privateKey } = generateKeyPairSync('ed25519');
const keyFile = path.join(dir, 'fleet.key');
const pubFile = path.join(dir, 'fleet.pub');
writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
writeFileSync(pubFile, publicKey.export({ type: 'spki', format: 'pem' }));
function manifest(version) {
  const m = buildManifest({ now: Date.now(), expiresInMs: 86_400_000, url: `https://pkg.example/${version}.tar`, sha256: 'a'.repeat(64), size: 1024, model: { name: 'bench', version }, deploymentId: `bench-${version}` });
  const file = path.join(dir, `${version}.json`);
  writeFileSync(file, JSON.stringify(signManifest(m, privateKey)));
  return file;
}

const broker = await startMosquitto(dir);
const rows = [];
let sim;
try {
  sim = await startSimulator(broker.url, pubFile, 'bench', 0.02);
  // mosquitto 2.0.11 leaves $SYS/broker/publish/messages/received at 0, so inbound PUBLISHes are
  // counted by an observer subscribed to the whole prefix (each one is delivered to it once).
  const observer = await mqtt.connectAsync(broker.url, { clientId: 'bench-observer' });
  let inbound = 0;
  let counting = false;
  observer.on('message', () => counting && inbound++);
  await observer.subscribeAsync('jetson/v1/#', { qos: 0 });
  await sleep(2000); // retained replay done
  counting = true;
  const before = await sysCounters(broker.url);
  const ok = await rollout(broker.url, manifest('2.0.0'), keyFile, 'bench', ['--max-failures', '10%']);
  const after = await sysCounters(broker.url);
  const R = '$SYS/broker/publish/messages/received';
  const S = '$SYS/broker/publish/messages/sent';
  counting = false;
  await observer.endAsync();
  void R;
  const recv = inbound;
  // Deliveries to the observer are the benchmark's own: not part of the rollout's traffic.
  const sent = (after[S] ?? 0) - (before[S] ?? 0) - inbound;
  const n1 = broker.notes();
  rows.push({ scenario: `${N} devices, 4 waves, 2% failures`, broker: n1, exit: ok.code, phase: ok.result.phase, seconds: ok.seconds, brokerInPerDevice: recv / N, brokerOutPerDevice: sent / N, controllerRssMB: ok.rssMB, controllerCpuS: ok.cpuSeconds, counts: ok.result.counts });
  sim.kill('SIGTERM');
  await sim.exited();

  sim = await startSimulator(broker.url, pubFile, 'bench20', 0.2);
  const ab = await rollout(broker.url, manifest('3.0.0'), keyFile, 'bench20', ['--max-failures', '10%']);
  rows.push({ scenario: `${N} devices, 4 waves, 20% failures`, broker: broker.notes(), exit: ab.code, phase: ab.result.phase ?? (ab.code === 1 ? 'aborted' : '?'), seconds: ab.seconds, brokerInPerDevice: null, brokerOutPerDevice: null, controllerRssMB: ab.rssMB, controllerCpuS: ab.cpuSeconds, abort: ab.result.error?.message ?? ab.stderrTail ?? null, counts: ab.result.counts ?? null });
} finally {
  sim?.kill('SIGTERM');
  await sleep(500);
  broker.proc.kill('SIGTERM');
}

const machine = { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? '?', memGB: Math.round(os.totalmem() / 1e9), node: process.version, platform: `${os.platform()} ${os.release()}`, stepDelayMs: STEP_MS };
const f = (v, d = 1) => (typeof v === 'number' ? v.toFixed(d) : '-');
console.log('\nscenario                                  exit  phase     time s  in/dev  out/dev  RSS MB  CPU s');
for (const r of rows) console.log(`${r.scenario.padEnd(42)}${String(r.exit).padEnd(6)}${String(r.phase).padEnd(10)}${f(r.seconds).padStart(6)}  ${f(r.brokerInPerDevice).padStart(6)}  ${f(r.brokerOutPerDevice).padStart(7)}  ${f(r.controllerRssMB).padStart(6)}  ${f(r.controllerCpuS).padStart(5)}`);
console.log(`machine: ${JSON.stringify(machine)}`);
mkdirSync(path.join(ROOT, 'test', 'bench', 'results'), { recursive: true });
const out = path.join(ROOT, 'test', 'bench', 'results', `fleet-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
writeFileSync(out, JSON.stringify({ machine, rows, at: new Date().toISOString() }, null, 2) + '\n');
console.log(`wrote ${path.relative(ROOT, out)}`);
