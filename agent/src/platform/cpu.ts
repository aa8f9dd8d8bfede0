import os from 'node:os';

/** CPUs this process may use (sizes ONNX Runtime threads: workers × intra-op ≤ cores, docs/reference/serving-runtime.md "ONNX Runtime and the event loop"). */
export function cpuCount(): number {
  return Math.max(1, os.availableParallelism());
}
