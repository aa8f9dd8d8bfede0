import t from 'tap';
import { Value } from '@sinclair/typebox/value';
import { HealthSnapshotSchema, type HealthSnapshot } from '../../../agent/src/core/contracts/health.js';
import { boardPoint, PointRing } from '../../../agent/src/http/console/board-point.js';

function snapshot(jetson: HealthSnapshot['jetson']): HealthSnapshot {
  const s: HealthSnapshot = {
    v: 1,
    ts: '2026-01-02T03:04:05.000Z',
    deviceId: 'nano-1',
    status: 'degraded',
    reasons: [{ code: 'TEMP_HIGH', severity: 'degraded', message: 'hot' }],
    system: {
      cpuLoadPct: [12.5, 80],
      cpuLoadAvgPct: 46.25,
      memory: { totalBytes: 4_000, usedBytes: 1_000, availableBytes: 3_000 },
      swap: { totalBytes: 2_000, usedBytes: 500 },
      disk: { path: '/var/lib/jetson-agent', totalBytes: 10, freeBytes: 5 },
      network: [],
      uptimeSec: 100,
      cpuTempC: 51.5,
    },
    jetson,
    agent: { version: '1', uptimeSec: 1, rssBytes: 1, model: null, inference: { requests: 0, errors: 0, latencyP50Ms: null, latencyP99Ms: null, swap: { heldRequests: 0, rejectedRequests: 0, longestHoldMs: null } }, plugin: null, lastDeployment: null },
  };
  t.ok(Value.Check(HealthSnapshotSchema, s), 'the fixture is a valid snapshot');
  return s;
}

t.test('a Jetson snapshot: GPU, thermal zones (PMIC excluded), INA3221 rails', async (t) => {
  const p = boardPoint(
    snapshot({
      tegrastats: { running: true, restarts: 0, sample: { temps: { CPU: 50, GPU: 48.5, PMIC: 100, AO: null }, rails: { VDD_IN: { curMW: 5000, avgMW: 4900 } } } },
      gpuLoadPct: 37,
      thermal: [
        { zone: 'thermal_zone0', type: 'CPU-therm', tempC: 52 },
        { zone: 'thermal_zone4', type: 'PMIC-Die', tempC: 100 },
        { zone: 'thermal_zone5', type: 'GPU-therm', tempC: null },
      ],
      rails: [
        { name: 'VDD_IN', voltageMV: 5000, currentMA: 1000, powerMW: 5000, source: 'hwmon' },
        { name: 'VDD_CPU_GPU_CV', voltageMV: 5000, currentMA: null, powerMW: null, source: 'hwmon' },
      ],
      nvpmodel: null,
    }),
  );
  t.equal(p.t, Date.parse('2026-01-02T03:04:05.000Z'));
  t.same(p.cpuPct, [12.5, 80]);
  t.equal(p.gpuPct, 37);
  t.same(p.ram, { usedBytes: 1000, totalBytes: 4000 });
  t.same(p.swap, { usedBytes: 500, totalBytes: 2000 });
  t.same(p.tempsC, { 'CPU-therm': 52 }, 'thermal zones only (PMIC-Die and offline zones left out), not tegrastats or the CPU again');
  t.same(p.railsMW, { VDD_IN: 5000 }, 'sysfs rails win; a rail without power is left out');
  t.same(p.reasons, [{ code: 'TEMP_HIGH', severity: 'degraded', message: 'hot' }]);
});

t.test('rails fall back to tegrastats; a laptop has no GPU and no rails', async (t) => {
  const jp = boardPoint(snapshot({ tegrastats: { running: true, restarts: 0, sample: { rails: { POM_5V_IN: { curMW: 933, avgMW: 933 } } } }, gpuLoadPct: null, thermal: [], rails: [], nvpmodel: null }));
  t.same(jp.railsMW, { POM_5V_IN: 933 });
  const noZones = boardPoint(snapshot({ tegrastats: { running: true, restarts: 0, sample: { temps: { CPU: 50, GPU: 48.5, PMIC: 100, AO: null } } }, gpuLoadPct: null, thermal: [], rails: [], nvpmodel: null }));
  t.same(noZones.tempsC, { CPU: 50, GPU: 48.5 }, "without sysfs zones: tegrastats' temperatures (PMIC and offline left out)");
  const laptop = boardPoint(snapshot(null));
  t.equal(laptop.gpuPct, null);
  t.same(laptop.railsMW, {});
  t.same(laptop.tempsC, { cpu: 51.5 });
});

t.test('the ring keeps the last span only', async (t) => {
  const r = new PointRing<{ t: number }>(1000);
  for (const x of [0, 400, 900, 1500, 2100]) r.push({ t: x });
  t.same(r.all().map((p) => p.t), [1500, 2100]);
});
