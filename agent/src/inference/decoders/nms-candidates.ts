import { jaccardOverlap } from '../nms.js';
import { BoxList, type DecodedBoxes } from './types.js';

/**
 * The shared NMS for the families whose graph ends before NMS (YOLOv5, YOLOv8/11, YOLOX,
 * DetectNet_v2 with cluster-mode NMS): candidates sorted by score (ties: candidate order, as
 * the stable sorts of TensorRT's BatchedNMS kernels), greedy suppression of IoU > threshold per
 * class (or across classes), at most `maxOut` kept. The IoU is BatchedNMS's jaccardOverlap on
 * normalised-style arithmetic (no +1: torchvision.ops.nms, which Ultralytics and YOLOX call,
 * computes plain areas). `maxCandidates` caps the sorted list first (Ultralytics' max_nms 30000).
 * Pure.
 */
export function nmsCandidates(c: DecodedBoxes, iouThreshold: number, maxOut: number, classAgnostic: boolean, allowed?: Uint8Array | null, maxCandidates = 30000): DecodedBoxes {
  const all = Array.from({ length: c.count }, (_, i) => i);
  const order = (allowed ? all.filter((i) => allowed[c.classes[i]!] === 1) : all).sort((p, q) => c.scores[q]! - c.scores[p]! || p - q);
  const n = Math.min(order.length, maxCandidates);
  const boxes = new Float32Array(n * 4);
  for (let r = 0; r < n; r++) for (let k = 0; k < 4; k++) boxes[r * 4 + k] = c.boxes[order[r]! * 4 + k]!;
  const suppressed = new Uint8Array(n);
  const out = new BoxList(Math.min(n, maxOut) || 1);
  const thr = Math.fround(iouThreshold);
  for (let r = 0; r < n && out.length < maxOut; r++) {
    if (suppressed[r]) continue;
    const i = order[r]!;
    const cls = c.classes[i]!;
    out.push(c.boxes[i * 4]!, c.boxes[i * 4 + 1]!, c.boxes[i * 4 + 2]!, c.boxes[i * 4 + 3]!, c.scores[i]!, cls);
    for (let q = r + 1; q < n; q++) {
      if (suppressed[q] || (!classAgnostic && c.classes[order[q]!] !== cls)) continue;
      if (jaccardOverlap(boxes, r, q, true, false) > thr) suppressed[q] = 1;
    }
  }
  return out.done();
}
