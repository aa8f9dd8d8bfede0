import path from 'node:path';
import type { HostPaths } from '../platform/paths.js';
import { listDir, readTextMaybe } from '../platform/fs.js';

/**
 * Jetson sysfs probes, read through the host root so fixture trees exercise them
 * (docs/reference/design-rules.md "Cross-cutting rules"). Paths and layouts: docs/reference/tegrastats.md "GPU load", "Thermal",
 * "Power rails" (INA3221 iio on JP4, hwmon on JP5+). Anything unreadable is null, never an error.
 */

/** Per-mille load files, most specific first (docs/reference/tegrastats.md "GPU load"). */
export const GPU_LOAD_PATHS = [
  '/sys/devices/platform/bus@0/17000000.gpu/load',
  '/sys/devices/platform/gpu.0/load',
  '/sys/devices/gpu.0/load',
  '/sys/devices/17000000.ga10b/load',
  '/sys/devices/17000000.gv11b/load',
  '/sys/devices/17000000.gp10b/load',
];

async function readNum(file: string): Promise<number | null> {
  const text = (await readTextMaybe(file).catch(() => undefined))?.trim();
  if (!text) return null;
  const n = Number(text);
  return Number.isFinite(n) ? n : null;
}

/** GPU busy % (per-mille / 10), or null when no load file exists. */
export async function readGpuLoadPct(paths: HostPaths): Promise<number | null> {
  for (const p of GPU_LOAD_PATHS) {
    const v = await readNum(paths.toHost(p));
    if (v !== null) return v / 10;
  }
  return null;
}

export interface ThermalZone {
  readonly zone: string;
  readonly type: string;
  /** °C; null when unreadable, empty (disabled zone on p3767) or -256 (offline). */
  readonly tempC: number | null;
}

export async function readThermalZones(paths: HostPaths): Promise<ThermalZone[]> {
  const base = paths.toHost('/sys/devices/virtual/thermal');
  const zones = (await listDir(base)).filter((n) => /^thermal_zone\d+$/.test(n)).sort((a, b) => Number(a.slice(12)) - Number(b.slice(12)));
  const out: ThermalZone[] = [];
  for (const z of zones) {
    const type = (await readTextMaybe(path.join(base, z, 'type')).catch(() => undefined))?.trim() ?? z;
    const milli = await readNum(path.join(base, z, 'temp'));
    out.push({ zone: z, type, tempC: milli === null || milli <= -256000 ? null : milli / 1000 });
  }
  return out;
}

export interface PowerRail {
  readonly name: string;
  readonly voltageMV: number | null;
  readonly currentMA: number | null;
  readonly powerMW: number | null;
  readonly source: 'iio' | 'hwmon';
}

/** INA3221 rails: scan /sys/bus/i2c/devices/<dev>/name for ina3221 (docs/reference/tegrastats.md "Power rails", jtop power.py). */
export async function readPowerRails(paths: HostPaths): Promise<PowerRail[]> {
  const i2c = paths.toHost('/sys/bus/i2c/devices');
  const rails: PowerRail[] = [];
  for (const dev of (await listDir(i2c)).sort()) {
    const name = (await readTextMaybe(path.join(i2c, dev, 'name')).catch(() => undefined))?.trim() ?? '';
    if (!name.startsWith('ina3221')) continue;
    const devDir = path.join(i2c, dev);
    // JP4 (driver ina3221x): iio:deviceN/rail_name_{0,1,2}, in_{voltage,current,power}N_input
    for (const iio of (await listDir(devDir)).filter((n) => n.startsWith('iio:device')).sort()) {
      const dir = path.join(devDir, iio);
      for (let ch = 0; ch < 3; ch++) {
        const label = (await readTextMaybe(path.join(dir, `rail_name_${ch}`)).catch(() => undefined))?.trim();
        if (!label) continue;
        rails.push({
          name: label,
          voltageMV: await readNum(path.join(dir, `in_voltage${ch}_input`)),
          currentMA: await readNum(path.join(dir, `in_current${ch}_input`)),
          powerMW: await readNum(path.join(dir, `in_power${ch}_input`)),
          source: 'iio',
        });
      }
    }
    // JP5+ (driver ina3221): hwmon/hwmonN/in{1..3}_label, inN_input (mV), currN_input (mA); power = V·I
    const hwmonRoot = path.join(devDir, 'hwmon');
    for (const hw of (await listDir(hwmonRoot)).filter((n) => /^hwmon\d+$/.test(n)).sort()) {
      const dir = path.join(hwmonRoot, hw);
      for (let ch = 1; ch <= 3; ch++) {
        const label = (await readTextMaybe(path.join(dir, `in${ch}_label`)).catch(() => undefined))?.trim();
        if (!label || /\bNC\b/.test(label) || /sum of shunt/i.test(label)) continue;
        const mv = await readNum(path.join(dir, `in${ch}_input`));
        const ma = await readNum(path.join(dir, `curr${ch}_input`));
        rails.push({ name: label, voltageMV: mv, currentMA: ma, powerMW: mv !== null && ma !== null ? Math.round((mv * ma) / 1000) : null, source: 'hwmon' });
      }
    }
  }
  return rails;
}

export interface NvpmodelMode {
  readonly id: number | null;
  readonly name: string | null;
}

/**
 * Current power mode without running `nvpmodel -q`: `/var/lib/nvpmodel/status` (`pmode:0002 …`)
 * and the name from `/etc/nvpmodel.conf` (`< POWER_MODEL ID=2 NAME=15W >`). Layout UNCONFIRMED
 * on every JetPack: listed in docs/hardware-validation.md.
 */
export async function readNvpmodel(paths: HostPaths): Promise<NvpmodelMode | null> {
  const status = await readTextMaybe(paths.toHost('/var/lib/nvpmodel/status')).catch(() => undefined);
  if (status === undefined) return null;
  const m = /pmode:(\d+)/.exec(status);
  const id = m ? Number(m[1]) : null;
  let name: string | null = null;
  if (id !== null) {
    const conf = (await readTextMaybe(paths.toHost('/etc/nvpmodel.conf')).catch(() => undefined)) ?? '';
    const re = /<\s*POWER_MODEL\s+ID=(\d+)\s+NAME=([^\s>]+)\s*>/g;
    for (let x = re.exec(conf); x; x = re.exec(conf)) if (Number(x[1]) === id) name = x[2] ?? null;
  }
  return { id, name };
}
