/** Soft "Max open files" from /proc/self/limits text; undefined when unknown or unlimited. */
export function parseOpenFilesLimit(limits: string): number | undefined {
  const m = /^Max open files\s+(\S+)/m.exec(limits);
  const n = m?.[1] !== undefined ? Number(m[1]) : NaN;
  return Number.isFinite(n) ? n : undefined;
}

/** One socket per simulated device plus Node's own descriptors (stdio, event loop, libuv). */
export const FD_HEADROOM = 64;
