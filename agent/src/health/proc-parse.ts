/**
 * Pure parsers for the /proc files health telemetry reads (proc(5)). They replace
 * systeminformation, which spawned five shells per snapshot (`sensors`, `cat` loops,
 * `vcgencmd`) and cost resident memory at idle (docs/benchmarks.md, footprint).
 */

/** Jiffies per CPU line of /proc/stat: busy and total (idle + iowait count as not busy). */
export interface CpuTicks {
  readonly busy: number;
  readonly total: number;
}

/** `cpu` (all CPUs) first, then `cpu0`, `cpu1`, … in file order. */
export function parseProcStat(text: string): { readonly all: CpuTicks | null; readonly cpus: readonly CpuTicks[] } {
  let all: CpuTicks | null = null;
  const cpus: CpuTicks[] = [];
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
    else cpus.push(ticks);
  }
  return { all, cpus };
}

/** Busy % between two samples (one decimal); null when no time passed. */
export function busyPct(prev: CpuTicks | undefined, cur: CpuTicks): number | null {
  const dt = cur.total - (prev?.total ?? 0);
  if (dt <= 0) return null;
  return Math.round(((cur.busy - (prev?.busy ?? 0)) / dt) * 1000) / 10;
}

export interface MemInfo {
  readonly totalBytes: number;
  readonly availableBytes: number;
  readonly usedBytes: number;
  readonly swapTotalBytes: number;
  readonly swapUsedBytes: number;
}

/** /proc/meminfo (kB values); MemAvailable is the kernel's estimate (since 3.14, every L4T). */
export function parseMeminfo(text: string): MemInfo | null {
  const kb = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^(\w+):\s+(\d+)\s*kB/.exec(line);
    if (m?.[1] && m[2]) kb.set(m[1], Number(m[2]) * 1024);
  }
  const total = kb.get('MemTotal');
  if (total === undefined) return null;
  const available = kb.get('MemAvailable') ?? (kb.get('MemFree') ?? 0) + (kb.get('Cached') ?? 0) + (kb.get('Buffers') ?? 0);
  const swapTotal = kb.get('SwapTotal') ?? 0;
  return { totalBytes: total, availableBytes: available, usedBytes: total - available, swapTotalBytes: swapTotal, swapUsedBytes: swapTotal - (kb.get('SwapFree') ?? 0) };
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
