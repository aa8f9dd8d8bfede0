import type { HealthSnapshot } from '../../core/contracts/health.js';

/**
 * One point of the console's board charts, cut from a health snapshot (docs/health.md): what the
 * charts draw and nothing else, so ten minutes of history stay small in memory (~300 points at
 * the default 2 s). `null` keeps the snapshot's meaning: not measurable on this host.
 */
export interface BoardPoint {
  readonly t: number;
  readonly status: HealthSnapshot['status'];
  readonly reasons: readonly { readonly code: string; readonly severity: string; readonly message: string }[];
  readonly cpuPct: readonly number[];
  readonly gpuPct: number | null;
  readonly ram: { readonly usedBytes: number; readonly totalBytes: number };
  readonly swap: { readonly usedBytes: number; readonly totalBytes: number };
  /** °C by sensor name: the Jetson thermal zones by type, else tegrastats' names, else the CPU temperature as `cpu`. */
  readonly tempsC: Readonly<Record<string, number>>;
  /** mW by rail name (INA3221 sysfs first, else tegrastats' current power). */
  readonly railsMW: Readonly<Record<string, number>>;
}

/** Not real temperatures, as in the health status (docs/health.md TEMP_HIGH): PMIC-Die's fixed 100 °C, fan estimates. */
const FAKE_ZONE = /^(pmic|thermal-fan-est)/i;

export function boardPoint(s: HealthSnapshot): BoardPoint {
  const tempsC: Record<string, number> = {};
  const temp = (name: string, v: unknown): void => {
    if (typeof v === 'number' && !FAKE_ZONE.test(name) && !(name in tempsC)) tempsC[name] = v;
  };
  // One source, so a sensor is not drawn twice under two names: the sysfs thermal zones on a
  // Jetson (the CPU temperature is one of them), else tegrastats' temperatures, else the CPU's.
  for (const z of s.jetson?.thermal ?? []) temp(z.type, z.tempC);
  const sampleTemps = s.jetson?.tegrastats.sample?.temps;
  if (Object.keys(tempsC).length === 0 && sampleTemps && typeof sampleTemps === 'object') {
    for (const [name, v] of Object.entries(sampleTemps as Record<string, unknown>)) temp(name, v);
  }
  if (Object.keys(tempsC).length === 0) temp('cpu', s.system.cpuTempC);
  const railsMW: Record<string, number> = {};
  for (const r of s.jetson?.rails ?? []) if (r.powerMW !== null) railsMW[r.name] = r.powerMW;
  const sampleRails = s.jetson?.tegrastats.sample?.rails;
  if (Object.keys(railsMW).length === 0 && sampleRails && typeof sampleRails === 'object') {
    for (const [name, v] of Object.entries(sampleRails as Record<string, unknown>)) {
      const cur = (v as { curMW?: unknown } | null)?.curMW;
      if (typeof cur === 'number') railsMW[name] = cur;
    }
  }
  return {
    t: Date.parse(s.ts),
    status: s.status,
    reasons: s.reasons.map((r) => ({ code: r.code, severity: r.severity, message: r.message })),
    cpuPct: s.system.cpuLoadPct,
    gpuPct: s.jetson?.gpuLoadPct ?? null,
    ram: { usedBytes: s.system.memory.usedBytes, totalBytes: s.system.memory.totalBytes },
    swap: { usedBytes: s.system.swap.usedBytes, totalBytes: s.system.swap.totalBytes },
    tempsC,
    railsMW,
  };
}

/** Keeps the points of the last `spanMs`, oldest first. */
export class PointRing<T extends { readonly t: number }> {
  private items: T[] = [];
  constructor(private readonly spanMs: number) {}
  push(p: T): void {
    this.items.push(p);
    const from = p.t - this.spanMs;
    let drop = 0;
    while (drop < this.items.length && (this.items[drop]?.t ?? 0) < from) drop++;
    if (drop > 0) this.items = this.items.slice(drop);
  }
  all(): readonly T[] {
    return this.items;
  }
}
