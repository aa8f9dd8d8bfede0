import type { NmsAttributes } from '../core/contracts/model.js';

/**
 * BatchedNMS in code, for ONNX Runtime models whose `BatchedNMS_TRT` / `BatchedNMSDynamic_TRT`
 * node was cut off: the float32 path of TensorRT OSS's plugin kernels, rule for rule, so a
 * package gives the same boxes here as on a Jetson (docs/reference/batched-nms.md lists the
 * rules with the kernel lines). Kernels, TensorRT OSS release/10.16:
 *  K1 https://github.com/NVIDIA/TensorRT/blob/release/10.16/plugin/common/kernels/sortScoresPerClass.cu
 *  K2 https://github.com/NVIDIA/TensorRT/blob/release/10.16/plugin/common/kernels/allClassNMS.cu
 *  K3 https://github.com/NVIDIA/TensorRT/blob/release/10.16/plugin/common/kernels/sortScoresPerImage.cu
 *  K4 https://github.com/NVIDIA/TensorRT/blob/release/10.16/plugin/batchedNMSPlugin/gatherNMSOutputs.cu
 * The steps are chained in plugin/batchedNMSPlugin/batchedNMSInference.cu L111-L133.
 * Output has the 4-tensor BatchedNMS layout for one image. Pure; typed arrays, no per-box objects.
 */
export interface NmsResult {
  /** num_detections: how many of the first keepTopK rows hold a box (K4 L99). */
  readonly count: number;
  /** keepTopK × 4, x1 y1 x2 y2. */
  readonly boxes: Float32Array;
  readonly scores: Float32Array;
  /** Class id per row; −1 in rows that hold no box (K4 L70-L78). */
  readonly classes: Float32Array;
}

const f = Math.fround;
/** CUDA fminf/fmaxf, which the kernels' min/max on float map to: a NaN operand yields the other one. */
const fmin = (a: number, b: number): number => (a !== a ? b : b !== b ? a : a < b ? a : b);
const fmax = (a: number, b: number): number => (a !== a ? b : b !== b ? a : a > b ? a : b);

/**
 * jaccardOverlap (K2 L124-L159) of box `i` (the reference, higher score) and box `j` in `b`
 * (4 floats per box), in float32 arithmetic like the kernel:
 * - corners are ordered first, so an inverted box (x2 < x1) is the same box (K2 L100-L110, L130-L131);
 * - boxes that do not touch have an all-zero intersection box (K2 L55-L62): a sub-pixel gap is no
 *   overlap, not a fraction of the +1 below;
 * - the intersection gets +1 per side only with caffeSemantics on pixel boxes (K2 L136-L147);
 * - areas get +1 per side on every pixel box, whatever caffeSemantics says (K2 L26-L47).
 * So with caffeSemantics on pixel boxes the kernel's zeroed intersection still counts 1×1.
 */
export function jaccardOverlap(b: ArrayLike<number>, i: number, j: number, normalized: boolean, caffeSemantics: boolean): number {
  const a0 = b[i * 4]!;
  const a1 = b[i * 4 + 1]!;
  const a2 = b[i * 4 + 2]!;
  const a3 = b[i * 4 + 3]!;
  const b0 = b[j * 4]!;
  const b1 = b[j * 4 + 1]!;
  const b2 = b[j * 4 + 2]!;
  const b3 = b[j * 4 + 3]!;
  const ax1 = fmin(a0, a2);
  const ax2 = fmax(a0, a2);
  const ay1 = fmin(a1, a3);
  const ay2 = fmax(a1, a3);
  const bx1 = fmin(b0, b2);
  const bx2 = fmax(b0, b2);
  const by1 = fmin(b1, b3);
  const by2 = fmax(b1, b3);
  let ix1 = 0;
  let iy1 = 0;
  let ix2 = 0;
  let iy2 = 0;
  if (!(bx1 > ax2 || bx2 < ax1 || by1 > ay2 || by2 < ay1)) {
    ix1 = fmax(ax1, bx1);
    iy1 = fmax(ay1, by1);
    ix2 = fmin(ax2, bx2);
    iy2 = fmin(ay2, by2);
  }
  const plus = !normalized && caffeSemantics;
  const iw = plus ? f(f(ix2 - ix1) + 1) : f(ix2 - ix1);
  const ih = plus ? f(f(iy2 - iy1) + 1) : f(iy2 - iy1);
  if (!(iw > 0 && ih > 0)) return 0;
  const inter = f(iw * ih);
  const sizeA = boxSize(ax1, ay1, ax2, ay2, normalized);
  const sizeB = boxSize(bx1, by1, bx2, by2, normalized);
  return f(inter / f(f(sizeA + sizeB) - inter));
}

/** bboxSize (K2 L26-L47): 0 for an inverted box, +1 per side on pixel boxes. */
function boxSize(x1: number, y1: number, x2: number, y2: number, normalized: boolean): number {
  if (x2 < x1 || y2 < y1) return 0;
  const w = f(x2 - x1);
  const h = f(y2 - y1);
  return normalized ? f(w * h) : f(f(w + 1) * f(h + 1));
}

/** saturate() of plugin/common/kernels/saturate.h: max(min(v, 1), 0) with CUDA's NaN rule. */
const saturate = (v: number): number => fmax(fmin(v, 1), 0);

function emptyResult(keepTopK: number): { boxes: Float32Array; scores: Float32Array; classes: Float32Array } {
  return { boxes: new Float32Array(keepTopK * 4), scores: new Float32Array(keepTopK), classes: new Float32Array(keepTopK).fill(-1) };
}

/**
 * @param boxes  nBoxes × 4 (shareLocation) or nBoxes × numClasses × 4, one image.
 * @param scores nBoxes × numClasses, one image.
 */
export function batchedNms(boxes: ArrayLike<number>, scores: ArrayLike<number>, nBoxes: number, a: NmsAttributes): NmsResult {
  const C = a.numClasses;
  const { topK, keepTopK } = a;
  const out = emptyResult(Math.max(0, keepTopK));
  // gatherNMSOutputs returns before writing a row when keepTopK > topK (K4 L59-L60) after
  // num_detections was zeroed (K4 L124): the real plugin finds nothing. Intake refuses such a model.
  if (keepTopK > topK || keepTopK <= 0) return { count: 0, ...out };
  // Thresholds are float attributes (plugin/batchedNMSPlugin/batchedNMSPlugin.cpp L717-L725): compare in float32.
  const thr = f(a.scoreThreshold);
  const iouThr = f(a.iouThreshold);
  // Cleared entries sort as score 0 with index −1 (K1 L87-L88, L117-L119). With thr ≥ 0 every
  // candidate is > 0, so they sort after all candidates and can be left out; a negative threshold
  // lets candidates tie with or fall below them, so then they take part in both sorts.
  const withCleared = thr < 0;
  const window = Math.min(topK, nBoxes); // K2 L185-L188: read at most min(top_k, boxes) per class
  const shareLocation = a.shareLocation;
  const boxOffset = (i: number, c: number): number => (shareLocation ? i * 4 : (i * C + c) * 4);

  // Per-image list after NMS (K2 L287-L303): position c·topK + rank, score, box offset (−1: none).
  const pos: number[] = [];
  const pScore: number[] = [];
  const pBox: number[] = [];
  const pCls: number[] = [];
  const cand = new Int32Array(nBoxes);
  const key = new Float32Array(nBoxes);
  const valid = new Uint8Array(nBoxes);
  const winBoxes = new Float32Array(window * 4);
  const kept = new Uint8Array(window);
  for (let c = 0; c < C; c++) {
    // sortScoresPerClass: strict `score > threshold` (K1 L94); the background class is cleared
    // (K1 L77-L90); a stable descending radix sort keeps box order among equal scores (K1 L183-L190).
    let n = 0;
    for (let i = 0; i < nBoxes; i++) {
      const s = scores[i * C + c]!;
      const ok = c !== a.backgroundLabelId && s > thr;
      valid[i] = ok ? 1 : 0;
      key[i] = ok ? s : 0;
      if (ok || withCleared) cand[n++] = i;
    }
    const sorted = cand.subarray(0, n).sort((p, q) => key[q]! - key[p]! || p - q);
    const w = Math.min(window, n);
    for (let r = 0; r < w; r++) {
      const i = sorted[r]!;
      kept[r] = valid[i]!;
      if (kept[r]) {
        const src = boxOffset(i, c);
        for (let k = 0; k < 4; k++) winBoxes[r * 4 + k] = boxes[src + k]!;
      }
    }
    // allClassNMS: greedy suppression of IoU > threshold (K2 L265). There is no reference box when
    // the first sorted entry is a cleared one (K2 L240-L247), and then nothing is suppressed.
    if (w > 0 && kept[0]) {
      for (let ref = 0; ref < w; ) {
        for (let t = ref + 1; t < w; t++) {
          if (kept[t] && jaccardOverlap(winBoxes, ref, t, a.isNormalized, a.caffeSemantics) > iouThr) kept[t] = 0;
        }
        do ref++;
        while (ref < w && !kept[ref]);
      }
    }
    for (let r = 0; r < (withCleared ? topK : w); r++) {
      const isKept = r < w && kept[r] === 1;
      if (!isKept && !withCleared) continue;
      pos.push(c * topK + r);
      pScore.push(isKept ? key[sorted[r]!]! : 0);
      pBox.push(isKept ? boxOffset(sorted[r]!, c) : -1);
      pCls.push(c);
    }
  }
  // sortScoresPerImage: one stable descending sort over every class's list (K3 L46-L53).
  const order = Array.from(pos.keys()).sort((p, q) => pScore[q]! - pScore[p]! || pos[p]! - pos[q]!);
  // gatherNMSOutputs: the first keepTopK entries; rows without a box keep class −1, score 0 and a
  // zero box (K4 L70-L78); clipBoxes saturates to [0,1] whatever isNormalized says (K4 L91-L98).
  let count = 0;
  const rows = Math.min(order.length, keepTopK);
  for (let r = 0; r < rows; r++) {
    const k = order[r]!;
    const src = pBox[k]!;
    if (src < 0) continue;
    for (let j = 0; j < 4; j++) {
      const v = boxes[src + j]!;
      out.boxes[r * 4 + j] = a.clipBoxes ? saturate(v) : v;
    }
    out.scores[r] = pScore[k]!;
    out.classes[r] = pCls[k]!;
    count++;
  }
  return { count, ...out };
}
