/**
 * Pure parsers for the /proc files health telemetry reads (proc(5)) for CPU load, network and
 * uptime. systeminformation's probes for these spawn a shell per call on Linux (five per
 * snapshot with `sensors`, `cat` loops, `vcgencmd`); memory still comes through
 * systeminformation's fs-only memory reader (platform/sysinfo.ts).
 */

/** Jiffies per CPU line of /proc/stat: busy and total (idle + iowait count as not busy). */
export interface CpuTicks {
  readonly busy: number;
  readonly total: number;
}

/** One `cpuN` line: N is the core number (offline cores have no line, so N ≠ array index). */
export interface CoreTicks extends CpuTicks {
  readonly cpu: number;
}

/** `cpu` (all CPUs) first, then the online cores `cpu0`, `cpu1`, … in file order. */
export function parseProcStat(text: string): { readonly all: CpuTicks | null; readonly cpus: readonly CoreTicks[] } {
  let all: CpuTicks | null = null;
  const cpus: CoreTicks[] = [];
  for (const line of text.split('\n')) {
    const m = /^cpu(\d*)\s+(.*)$/.exec(line);
    if (!m) continue;
    // user nice system idle iowait irq softirq steal [guest guest_nice: already in user/nice]
    const f = (m[2] ?? '').trim().split(/\s+/).slice(0, 8).map(Number);
    if (f.length < 4 || f.some((n) => !Number.isFinite(n))) continue;
    const total = f.reduce((a, b) => a + b, 0);
    const idle = (f[3] ?? 0) + (f[4] ?? 0);
    const ticks = { busy: total - idle, total };
    if (m[1] === '') all = ticks;
    else cpus.push({ cpu: Number(m[1]), ...ticks });
  }
  return { all, cpus };
}

/** Busy % between two samples (one decimal); null when no time passed. */
export function busyPct(prev: CpuTicks | undefined, cur: CpuTicks): number | null {
  const dt = cur.total - (prev?.total ?? 0);
  if (dt <= 0) return null;
  return Math.round(((cur.busy - (prev?.busy ?? 0)) / dt) * 1000) / 10;
}

/**
 * Busy % of each online core since the previous sample of the SAME core (matched by N of
 * `cpuN`, not by position: nvpmodel takes cores offline and the lines shift). A core without a
 * previous sample (first reading, or just back online) gets its average since boot.
 */
export function coreBusyPct(prev: readonly CoreTicks[] | undefined, cur: readonly CoreTicks[]): number[] {
  const before = new Map((prev ?? []).map((c) => [c.cpu, c]));
  return cur.map((c) => busyPct(before.get(c.cpu), c) ?? 0);
}

/** Cumulative bytes per interface from /proc/net/dev (two header lines, then `iface: rx … tx …`). */
export function parseNetDev(text: string): Map<string, { readonly rx: number; readonly tx: number }> {
  const out = new Map<string, { rx: number; tx: number }>();
  for (const line of text.split('\n')) {
    const m = /^\s*([^:\s]+):\s*(.*)$/.exec(line);
    if (!m?.[1]) continue;
    const f = (m[2] ?? '').trim().split(/\s+/).map(Number);
    // Receive has 8 columns, so transmit bytes are column 9.
    if (f.length >= 9 && Number.isFinite(f[0]) && Number.isFinite(f[8])) out.set(m[1], { rx: f[0] ?? 0, tx: f[8] ?? 0 });
  }
  return out;
}

/** First field of /proc/uptime (seconds since boot), or null. */
export function parseUptime(text: string): number | null {
  const n = Number(text.trim().split(/\s+/)[0]);
  return text.trim() && Number.isFinite(n) ? n : null;
}
