import type { NmsAttributes } from '../core/contracts/model.js';

/**
 * BatchedNMS in code, for ONNX Runtime models whose TensorRT NMS node was cut off
 * (tlt-models.md §8.3, §10): per class, drop scores < scoreThreshold, sort descending, keep
 * topK, greedy suppression of IoU > iouThreshold; then merge the classes, sort by score,
 * keep keepTopK, clip to [0,1] when clipBoxes && isNormalized. Output has the 4-tensor
 * BatchedNMS layout for one image. Pure; typed arrays, no per-box objects.
 */
export interface NmsResult {
  readonly count: number;
  /** keepTopK × 4, x1 y1 x2 y2. */
  readonly boxes: Float32Array;
  readonly scores: Float32Array;
  readonly classes: Float32Array;
}

/** IoU of boxes i and j in `b` (4 floats per box). `plusOne` = caffeSemantics for pixel boxes. */
export function iou(b: Float32Array, i: number, j: number, plusOne = 0): number {
  const ax1 = b[i * 4]!;
  const ay1 = b[i * 4 + 1]!;
  const ax2 = b[i * 4 + 2]!;
  const ay2 = b[i * 4 + 3]!;
  const bx1 = b[j * 4]!;
  const by1 = b[j * 4 + 1]!;
  const bx2 = b[j * 4 + 2]!;
  const by2 = b[j * 4 + 3]!;
  const iw = Math.min(ax2, bx2) - Math.max(ax1, bx1) + plusOne;
  const ih = Math.min(ay2, by2) - Math.max(ay1, by1) + plusOne;
  if (iw <= 0 || ih <= 0) return 0;
  const inter = iw * ih;
  const areaA = Math.max(0, ax2 - ax1 + plusOne) * Math.max(0, ay2 - ay1 + plusOne);
  const areaB = Math.max(0, bx2 - bx1 + plusOne) * Math.max(0, by2 - by1 + plusOne);
  const union = areaA + areaB - inter;
  return union <= 0 ? 0 : inter / union;
}

/**
 * @param boxes  nBoxes × 4 (shareLocation) or nBoxes × numClasses × 4, one image.
 * @param scores nBoxes × numClasses, one image.
 */
export function batchedNms(boxes: Float32Array, scores: Float32Array, nBoxes: number, a: NmsAttributes): NmsResult {
  const C = a.numClasses;
  const keepTopK = a.keepTopK;
  const keptIdx: number[] = [];
  const keptCls: number[] = [];
  const keptScore: number[] = [];
  const cand = new Int32Array(nBoxes);
  const scratch = new Float32Array(Math.min(nBoxes, a.topK) * 4);
  const plusOne = a.isNormalized ? 0 : 1; // caffeSemantics: +1 on pixel boxes (§8.3)
  for (let c = 0; c < C; c++) {
    if (c === a.backgroundLabelId) continue;
    let n = 0;
    for (let i = 0; i < nBoxes; i++) if (scores[i * C + c]! >= a.scoreThreshold) cand[n++] = i;
    const sorted = Array.from(cand.subarray(0, n)).sort((p, q) => scores[q * C + c]! - scores[p * C + c]! || p - q);
    const k = Math.min(sorted.length, a.topK);
    // Candidates' boxes are copied into a scratch so one IoU routine serves both shareLocation modes.
    for (let r = 0; r < k; r++) {
      const i = sorted[r]!;
      const src = a.shareLocation ? i * 4 : (i * C + c) * 4;
      scratch.set(boxes.subarray(src, src + 4), r * 4);
    }
    const suppressed = new Uint8Array(k);
    for (let r = 0; r < k; r++) {
      if (suppressed[r]) continue;
      keptIdx.push(a.shareLocation ? sorted[r]! * 4 : (sorted[r]! * C + c) * 4);
      keptCls.push(c);
      keptScore.push(scores[sorted[r]! * C + c]!);
      for (let q = r + 1; q < k; q++) if (!suppressed[q] && iou(scratch, r, q, plusOne) > a.iouThreshold) suppressed[q] = 1;
    }
  }
  const order = keptScore.map((_, i) => i).sort((p, q) => keptScore[q]! - keptScore[p]! || keptCls[p]! - keptCls[q]!);
  const count = Math.min(order.length, keepTopK);
  const outBoxes = new Float32Array(keepTopK * 4);
  const outScores = new Float32Array(keepTopK);
  const outClasses = new Float32Array(keepTopK);
  const clip = a.clipBoxes && a.isNormalized;
  for (let r = 0; r < count; r++) {
    const k = order[r]!;
    const src = keptIdx[k]!;
    for (let j = 0; j < 4; j++) {
      const v = boxes[src + j]!;
      outBoxes[r * 4 + j] = clip ? Math.min(Math.max(v, 0), 1) : v;
    }
    outScores[r] = keptScore[k]!;
    outClasses[r] = keptCls[k]!;
  }
  return { count, boxes: outBoxes, scores: outScores, classes: outClasses };
}
