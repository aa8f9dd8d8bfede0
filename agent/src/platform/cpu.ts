import os from 'node:os';

/** CPUs this process may use (sizes ONNX Runtime threads: workers × intra-op ≤ cores, serving.md §6.3). */
export function cpuCount(): number {
  return Math.max(1, os.availableParallelism());
}
