import { HEALTH_SNAPSHOT_VERSION, type HealthReason, type HealthSnapshot } from '../core/contracts/health.js';
import { maxTemperature, type TegrastatsSample } from './tegrastats.js';

/**
 * Pure health snapshot (issue #6 §3): readings in, HealthSnapshot + status/reasons out. No I/O.
 * Status: `failed` if any reason is failed-severity, else `degraded` if any reason, else `ok`.
 */
export interface SystemReading {
  readonly cpuLoadPct: readonly number[];
  readonly cpuLoadAvgPct: number | null;
  readonly memory: { readonly totalBytes: number; readonly usedBytes: number; readonly availableBytes: number };
  readonly swap: { readonly totalBytes: number; readonly usedBytes: number };
  readonly disk: { readonly path: string; readonly totalBytes: number | null; readonly freeBytes: number | null };
  readonly network: readonly { readonly iface: string; readonly rxBytesPerSec: number | null; readonly txBytesPerSec: number | null }[];
  readonly uptimeSec: number;
  readonly cpuTempC: number | null;
}

export interface JetsonReading {
  /** Whether a tegrastats binary was found at all. */
  readonly tegrastatsInstalled: boolean;
  readonly tegrastats: { readonly running: boolean; readonly restarts: number; readonly sample: TegrastatsSample | null };
  readonly gpuLoadPct: number | null;
  readonly thermal: readonly { readonly zone: string; readonly type: string; readonly tempC: number | null }[];
  readonly rails: readonly { name: string; voltageMV: number | null; currentMA: number | null; powerMW: number | null; source: 'iio' | 'hwmon' }[];
  readonly nvpmodel: { readonly id: number | null; readonly name: string | null } | null;
}

export interface AgentReading {
  readonly version: string;
  readonly uptimeSec: number;
  readonly rssBytes: number;
  readonly model: { name: string; version: string; backend: string; state: string } | null;
  /** Counts over the interval and the latencies observed in it. */
  readonly requests: number;
  readonly errors: number;
  readonly latenciesMs: readonly number[];
  /** Requests held during replace-mode swaps over the interval (inference/swap-hold.ts). */
  readonly swap: { readonly heldRequests: number; readonly rejectedRequests: number; readonly longestHoldMs: number | null };
  readonly plugin: { status: string; drift: boolean } | null;
  readonly lastDeployment: { deploymentId: string; state: string; updatedAt: string } | null;
}

export interface Thresholds {
  readonly maxTempC: number;
  readonly minFreeDiskBytes: number;
  readonly maxErrorRate: number;
}

export interface SnapshotInputs {
  readonly now: number;
  readonly deviceId: string;
  readonly isJetson: boolean;
  readonly system: SystemReading;
  readonly jetson: JetsonReading | null;
  readonly agent: AgentReading;
  readonly thresholds: Thresholds;
}

/** Nearest-rank percentile; null for no samples. */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1] ?? null;
}

/** Zone types that are not real temperatures: PMIC-Die is a fixed 100C (jtop skips PMIC), fan estimates. */
const FAKE_ZONE = /^(pmic|thermal-fan-est)/i;

export function hottest(inputs: Pick<SnapshotInputs, 'system' | 'jetson'>): { name: string; tempC: number } | null {
  let best: { name: string; tempC: number } | null = null;
  const consider = (name: string, t: number | null): void => {
    if (t === null || FAKE_ZONE.test(name)) return;
    if (!best || t > best.tempC) best = { name, tempC: t };
  };
  consider('cpu', inputs.system.cpuTempC);
  for (const z of inputs.jetson?.thermal ?? []) consider(z.type, z.tempC);
  const sample = inputs.jetson?.tegrastats.sample;
  if (sample) consider('tegrastats', maxTemperature(sample));
  return best;
}

export function buildSnapshot(i: SnapshotInputs): HealthSnapshot {
  const reasons: HealthReason[] = [];
  const hot = hottest(i);
  if (hot && hot.tempC >= i.thresholds.maxTempC) {
    reasons.push({ code: 'TEMP_HIGH', severity: 'degraded', message: `${hot.name} at ${hot.tempC} °C ≥ health.maxTempC ${i.thresholds.maxTempC} °C (throttling territory).` });
  }
  const free = i.system.disk.freeBytes;
  if (free !== null && free < i.thresholds.minFreeDiskBytes) {
    reasons.push({ code: 'DISK_LOW', severity: 'degraded', message: `${free} bytes free under ${i.system.disk.path} < health.minFreeDiskBytes ${i.thresholds.minFreeDiskBytes}.` });
  }
  const a = i.agent;
  if (a.requests > 0 && a.errors / a.requests > i.thresholds.maxErrorRate) {
    reasons.push({
      code: 'ERROR_RATE_HIGH',
      severity: 'degraded',
      message: `Inference errors ${a.errors}/${a.requests} in the last interval > health.maxErrorRate ${i.thresholds.maxErrorRate}.`,
    });
  }
  if (a.model && a.model.state === 'failed') reasons.push({ code: 'MODEL_NOT_READY', severity: 'failed', message: `Model ${a.model.name} ${a.model.version} failed to load.` });
  else if (a.model && a.model.state !== 'ready') reasons.push({ code: 'MODEL_NOT_READY', severity: 'degraded', message: `Model ${a.model.name} ${a.model.version} is ${a.model.state}.` });
  if (a.plugin?.drift) reasons.push({ code: 'PLUGIN_DRIFT', severity: 'degraded', message: 'libnvinfer_plugin differs from the swapped build (a package upgrade replaced it).' });
  if (i.isJetson && i.jetson) {
    if (!i.jetson.tegrastatsInstalled) reasons.push({ code: 'TEGRASTATS_MISSING', severity: 'degraded', message: 'tegrastats is not installed; GPU and power telemetry are incomplete.' });
    else if (!i.jetson.tegrastats.running) reasons.push({ code: 'TEGRASTATS_MISSING', severity: 'degraded', message: `tegrastats is not running (restarted ${i.jetson.tegrastats.restarts} times).` });
  }
  const status = reasons.some((r) => r.severity === 'failed') ? 'failed' : reasons.length > 0 ? 'degraded' : 'ok';
  const j = i.jetson;
  const gr3d = j?.tegrastats.sample?.loads.GR3D?.loadPct ?? null;
  return {
    v: HEALTH_SNAPSHOT_VERSION,
    ts: new Date(i.now).toISOString(),
    deviceId: i.deviceId,
    status,
    reasons,
    system: {
      cpuLoadPct: [...i.system.cpuLoadPct],
      cpuLoadAvgPct: i.system.cpuLoadAvgPct,
      memory: { ...i.system.memory },
      swap: { ...i.system.swap },
      disk: { ...i.system.disk },
      network: i.system.network.map((n) => ({ ...n })),
      uptimeSec: i.system.uptimeSec,
      cpuTempC: i.system.cpuTempC,
    },
    jetson: j
      ? {
          tegrastats: {
            running: j.tegrastats.running,
            restarts: j.tegrastats.restarts,
            sample: j.tegrastats.sample ? (JSON.parse(JSON.stringify(j.tegrastats.sample)) as Record<string, unknown>) : null,
          },
          gpuLoadPct: j.gpuLoadPct ?? gr3d,
          thermal: j.thermal.map((z) => ({ ...z })),
          rails: j.rails.map((r) => ({ ...r })),
          nvpmodel: j.nvpmodel ? { ...j.nvpmodel } : null,
        }
      : null,
    agent: {
      version: a.version,
      uptimeSec: a.uptimeSec,
      rssBytes: a.rssBytes,
      model: a.model ? { ...a.model } : null,
      inference: { requests: a.requests, errors: a.errors, latencyP50Ms: percentile(a.latenciesMs, 50), latencyP99Ms: percentile(a.latenciesMs, 99), swap: { ...a.swap } },
      plugin: a.plugin ? { ...a.plugin } : null,
      lastDeployment: a.lastDeployment ? { ...a.lastDeployment } : null,
    },
  };
}
