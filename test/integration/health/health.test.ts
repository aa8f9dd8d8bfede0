import t from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Value } from '@sinclair/typebox/value';
import { HealthSnapshotSchema, type HealthSnapshot } from '../../../agent/src/core/contracts/health.js';
import { TegrastatsReader } from '../../../agent/src/health/tegrastats-reader.js';
import { HealthService, noAgentStats } from '../../../agent/src/health/service.js';
import { readGpuLoadPct, readNvpmodel, readPowerRails, readThermalZones } from '../../../agent/src/health/sysfs.js';
import { HostPaths } from '../../../agent/src/platform/paths.js';
import { silentLogger } from '../../../agent/src/core/log.js';
import { systemClock } from '../../../agent/src/platform/clock.js';
import { REPO_ROOT } from '../../helpers/cli.js';

const DOUBLE = path.join(REPO_ROOT, 'test', 'fixtures', 'bin', 'tegrastats');
const NANO = new HostPaths(path.join(REPO_ROOT, 'test', 'fixtures', 'health', 'nano-jp4'));
const ORIN = new HostPaths(path.join(REPO_ROOT, 'test', 'fixtures', 'health', 'orin-nano-jp6'));

function tmp(t: { teardown(fn: () => void): void }): string {
  const d = mkdtempSync(path.join(os.tmpdir(), 'health-'));
  t.teardown(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

t.test('the tegrastats double enforces the command-line contract', async (t) => {
  for (const args of [[], ['--interval'], ['--interval', '0'], ['--interval', '1000', '--logfile', 'x'], ['-i', '1000']]) {
    let code = 0;
    try {
      execFileSync(DOUBLE, args, { stdio: 'pipe' });
    } catch (err) {
      code = (err as { status: number }).status;
    }
    t.equal(code, 2, `rejects ${JSON.stringify(args)}`);
  }
});

t.test('tegrastats reader (against the strict double): samples, restart after it dies', async (t) => {
  const dir = tmp(t);
  const log = path.join(dir, 'argv.log');
  process.env.TEGRASTATS_DOUBLE_LOG = log;
  process.env.TEGRASTATS_DOUBLE_DIE_FIRST = '2';
  process.env.TEGRASTATS_DOUBLE_BOARD = 'orin-nano-jp6-root';
  t.teardown(() => {
    delete process.env.TEGRASTATS_DOUBLE_LOG;
    delete process.env.TEGRASTATS_DOUBLE_DIE_FIRST;
    delete process.env.TEGRASTATS_DOUBLE_BOARD;
  });
  let samples = 0;
  let resolveAfterRestart: () => void = () => undefined;
  const afterRestart = new Promise<void>((r) => (resolveAfterRestart = r));
  const reader = new TegrastatsReader({
    binary: DOUBLE,
    intervalMs: 50,
    log: silentLogger,
    maxBackoffMs: 100,
    onSample: () => {
      samples++;
      if (reader.state.restarts >= 1) resolveAfterRestart();
    },
  });
  await reader.start();
  await afterRestart;
  await reader.stop();
  t.ok(samples >= 3, 'samples before and after the crash');
  t.ok(reader.state.restarts >= 1, 'restarted after the double exited');
  t.equal(reader.state.sample?.loads.GR3D?.freqMHz, 420);
  const starts = readFileSync(log, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as string[]);
  t.ok(starts.length >= 2);
  t.same(starts[0], ['--interval', '50'], 'invoked as tegrastats --interval <ms>');
  t.notOk(reader.state.running);
});

t.test('missing tegrastats binary: reader reports not running, never throws', async (t) => {
  const reader = new TegrastatsReader({ binary: '/nonexistent/tegrastats', intervalMs: 100, log: silentLogger, maxBackoffMs: 100 });
  await reader.start();
  await reader.stop();
  t.notOk(reader.state.running);
});

t.test('sysfs probes on a Nano JP4 tree (iio INA3221, gpu.0 load)', async (t) => {
  t.equal(await readGpuLoadPct(NANO), 23.7);
  const zones = await readThermalZones(NANO);
  t.same(zones.map((z) => z.type), ['AO-therm', 'CPU-therm', 'GPU-therm', 'PLL-therm', 'PMIC-Die', 'thermal-fan-est']);
  t.equal(zones[1]?.tempC, 23.5);
  t.same(await readPowerRails(NANO), [
    { name: 'POM_5V_IN', voltageMV: 5000, currentMA: 987, powerMW: 4935, source: 'iio' },
    { name: 'POM_5V_GPU', voltageMV: 5000, currentMA: 12, powerMW: 60, source: 'iio' },
    { name: 'POM_5V_CPU', voltageMV: 5000, currentMA: 170, powerMW: 850, source: 'iio' },
  ]);
  t.same(await readNvpmodel(NANO), { id: 1, name: '5W' });
});

t.test('sysfs probes on an Orin Nano JP6 tree (hwmon INA3221, NC and shunt-sum skipped, disabled zones)', async (t) => {
  t.equal(await readGpuLoadPct(ORIN), 0);
  const zones = await readThermalZones(ORIN);
  t.equal(zones.find((z) => z.type === 'cv0-thermal')?.tempC, null, 'empty temp of a disabled zone');
  t.equal(zones.find((z) => z.type === 'soc1-thermal')?.tempC, null, '-256 C is offline');
  const rails = await readPowerRails(ORIN);
  t.same(rails.map((r) => r.name), ['VDD_IN', 'VDD_CPU_GPU_CV', 'VDD_SOC']);
  t.equal(rails[0]?.powerMW, Math.round((5072 * 1306) / 1000));
  t.equal(await readNvpmodel(ORIN), null, 'no nvpmodel status: null');
  t.equal(await readGpuLoadPct(new HostPaths(tmp(t))), null);
});

function service(paths: HostPaths, stateDir: string, reader: TegrastatsReader | null, over: Partial<ConstructorParameters<typeof HealthService>[0]> = {}) {
  const published: HealthSnapshot[] = [];
  const s = new HealthService({
    deviceId: 'jet-1',
    isJetson: true,
    paths,
    stateDir,
    agentVersion: '0.1.0',
    intervalSec: 3600,
    thresholds: { maxTempC: 85, minFreeDiskBytes: 0, maxErrorRate: 0.05 },
    tegrastats: reader,
    tegrastatsInstalled: reader !== null,
    stats: noAgentStats,
    publish: async (x) => void published.push(x),
    log: silentLogger,
    clock: systemClock,
    ...over,
  });
  return { s, published };
}

t.test('health snapshot is valid against its schema; status and reasons', async (t) => {
  const dir = tmp(t);
  const { s: nano } = service(NANO, dir, null);
  const snap = await nano.collect();
  t.ok(Value.Check(HealthSnapshotSchema, snap), [...Value.Errors(HealthSnapshotSchema, snap)].map((e) => `${e.path} ${e.message}`).join('; ') || 'valid');
  t.ok(Value.Check(HealthSnapshotSchema, JSON.parse(JSON.stringify(snap))), 'valid after a JSON round trip (what MQTT carries)');
  t.equal(snap.jetson?.gpuLoadPct, 23.7);
  t.same(snap.reasons.map((r) => r.code), ['TEGRASTATS_MISSING'], 'a Jetson without tegrastats is degraded');
  t.equal(snap.status, 'degraded');
  t.ok(snap.system.cpuLoadPct.length >= 1);
  t.ok(snap.system.disk.freeBytes !== null && snap.system.disk.freeBytes > 0);

  const { s: orin } = service(ORIN, dir, null, { thresholds: { maxTempC: 85, minFreeDiskBytes: Number.MAX_SAFE_INTEGER, maxErrorRate: 0.05 } });
  const hot = await orin.collect();
  t.ok(Value.Check(HealthSnapshotSchema, hot));
  t.same(hot.reasons.map((r) => r.code).sort(), ['DISK_LOW', 'TEGRASTATS_MISSING', 'TEMP_HIGH'], 'tj-thermal 91 C ≥ 85, disk below the limit');

  const failing = {
    ...noAgentStats,
    inference: () => ({ requests: 100, errors: 20, latenciesMs: [5, 7, 9, 30] }),
    model: () => ({ name: 'det', version: '1', backend: 'onnxruntime', state: 'failed' }),
  };
  const { s: laptop } = service(new HostPaths(dir), dir, null, { isJetson: false, stats: failing });
  const bad = await laptop.collect();
  t.ok(Value.Check(HealthSnapshotSchema, bad));
  t.equal(bad.status, 'failed');
  t.same(bad.reasons.map((r) => r.code), ['ERROR_RATE_HIGH', 'MODEL_NOT_READY']);
  t.equal(bad.agent.inference.latencyP50Ms, 7);
  t.equal(bad.agent.inference.latencyP99Ms, 30);
  t.equal(bad.jetson, null, 'no Jetson section on a laptop');
});

t.test('health service with the tegrastats double publishes a snapshot with the parsed sample', async (t) => {
  process.env.TEGRASTATS_DOUBLE_BOARD = 'nano-root';
  t.teardown(() => delete process.env.TEGRASTATS_DOUBLE_BOARD);
  const dir = tmp(t);
  let gotSample: () => void = () => undefined;
  const sampled = new Promise<void>((r) => (gotSample = r));
  const reader = new TegrastatsReader({ binary: DOUBLE, intervalMs: 50, log: silentLogger, onSample: () => gotSample() });
  const { s, published } = service(NANO, dir, reader);
  await s.start();
  await sampled;
  await s.tick();
  await s.stop();
  const last = published.at(-1);
  t.ok(last && Value.Check(HealthSnapshotSchema, last));
  t.equal(last?.status, 'ok');
  t.equal(last?.jetson?.tegrastats.running, true);
  t.same((last?.jetson?.tegrastats.sample as { iram?: unknown } | null)?.iram, { usedKB: 0, totalKB: 252, lfbKB: 252 });
});
