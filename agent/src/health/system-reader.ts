import { readProc } from '../platform/proc.js';
import { freeBytes } from '../platform/fs.js';
import { memory } from '../platform/sysinfo.js';
import { busyPct, coreBusyPct, parseNetDev, parseProcStat, parseUptime, type CoreTicks, type CpuTicks } from './proc-parse.js';
import type { SystemReading } from './snapshot.js';
import type { ThermalZone } from './sysfs.js';

/** Thermal zone types that measure the CPU (Jetson `CPU-therm`, x86 `x86_pkg_temp`, AMD `Tctl`/`k10temp`). */
const CPU_ZONE = /^(cpu|x86_pkg_temp|tctl|k10temp)/i;

export function cpuTemperature(zones: readonly ThermalZone[]): number | null {
  return zones.find((z) => CPU_ZONE.test(z.type) && z.tempC !== null)?.tempC ?? null;
}

/**
 * The system part of a health snapshot: memory through systeminformation, the rest from /proc. CPU load and network rates are deltas
 * since the previous reading (the first CPU reading is the average since boot, the first
 * network reading has null rates), so one reader lives as long as the health service.
 */
export class SystemReader {
  private cpu: { all: CpuTicks | null; cpus: readonly CoreTicks[] } | undefined;
  private net: { at: number; bytes: Map<string, { rx: number; tx: number }> } | undefined;

  constructor(private readonly now: () => number = Date.now) {}

  async read(stateDir: string, zones: readonly ThermalZone[]): Promise<SystemReading> {
    const [statText, mem, netText, upText, disk] = await Promise.all([
      readProc('stat'),
      memory().catch(() => null),
      readProc('net/dev'),
      readProc('uptime'),
      freeBytes(stateDir).catch(() => null),
    ]);
    const stat = parseProcStat(statText);
    const prev = this.cpu;
    this.cpu = stat;
    const at = this.now();
    const bytes = parseNetDev(netText);
    const before = this.net;
    this.net = { at, bytes };
    const secs = before ? (at - before.at) / 1000 : 0;
    const rate = (cur: number, old: number | undefined): number | null => (old === undefined || secs <= 0 || cur < old ? null : Math.round((cur - old) / secs));
    return {
      cpuLoadPct: coreBusyPct(prev?.cpus, stat.cpus),
      cpuLoadAvgPct: stat.all ? busyPct(prev?.all ?? undefined, stat.all) : null,
      memory: { totalBytes: mem?.totalBytes ?? 0, usedBytes: mem?.usedBytes ?? 0, availableBytes: mem?.availableBytes ?? 0 },
      swap: { totalBytes: mem?.swapTotalBytes ?? 0, usedBytes: mem?.swapUsedBytes ?? 0 },
      disk: { path: stateDir, totalBytes: disk?.total ?? null, freeBytes: disk?.free ?? null },
      network: [...bytes]
        .filter(([iface]) => iface !== 'lo')
        .map(([iface, b]) => ({ iface, rxBytesPerSec: rate(b.rx, before?.bytes.get(iface)?.rx), txBytesPerSec: rate(b.tx, before?.bytes.get(iface)?.tx) })),
      uptimeSec: Math.round(parseUptime(upText) ?? 0),
      cpuTempC: cpuTemperature(zones),
    };
  }
}
