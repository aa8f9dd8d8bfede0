/**
 * Numeric dotted-version comparison ("3.10.2" < "3.13", "8.5.2" < "10.3.0"): -1, 0, 1.
 * Missing or non-numeric parts count as 0. Shared by board detection (cmake minimums), the
 * plugin build (branch choice, drift) and rollout admission (TensorRT/JetPack ranges).
 */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map((x) => Number.parseInt(x, 10) || 0);
  const pb = b.split('.').map((x) => Number.parseInt(x, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}
