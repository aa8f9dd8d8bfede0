import { createRequire } from 'node:module';
import type { Systeminformation } from 'systeminformation';

export interface MemoryReading {
  readonly totalBytes: number;
  /** The kernel's MemAvailable estimate (page cache that can be dropped counts as available). */
  readonly availableBytes: number;
  readonly usedBytes: number;
  readonly swapTotalBytes: number;
  readonly swapUsedBytes: number;
}

type MemModule = { mem(): Promise<Systeminformation.MemData> };
let memModule: MemModule | undefined;

/**
 * Memory and swap through systeminformation's memory reader (docs/architecture.md "Where the code differs from DESIGN.md, and why": system metrics via
 * systeminformation). Only that module is loaded, not the package index: the index costs
 * ~10.8 MB of RSS on an idle daemon and its other Linux probes (currentLoad, networkStats,
 * fsSize, cpuTemperature) spawn a shell per call, five per health snapshot; the memory reader
 * reads /proc/meminfo with fs (measured: ~3 MB, no subprocess; docs/benchmarks.md). CPU,
 * network and uptime come from /proc directly (health/proc-parse.ts).
 * Null when the platform reports no memory (never an error).
 */
export async function memory(): Promise<MemoryReading | null> {
  memModule ??= createRequire(import.meta.url)('systeminformation/lib/memory.js') as MemModule;
  const m = await memModule.mem();
  if (!m.total) return null;
  // `active` is systeminformation's total − available: memory really in use, without cache.
  return { totalBytes: m.total, availableBytes: m.available, usedBytes: m.active, swapTotalBytes: m.swaptotal, swapUsedBytes: m.swapused };
}
