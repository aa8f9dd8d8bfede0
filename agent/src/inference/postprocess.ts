import { clipToImage, toImageBox, type Box, type Placement } from './letterbox.js';
import type { DecodedBoxes } from './decoders/types.js';

/**
 * BatchedNMS outputs for one image → detections in original-image pixels (docs/reference/yolov3-io.md "How NVIDIA reads the outputs" and
 * "Box mapping"): first `count` rows, class id → label (index in the sorted class list, docs/reference/yolov3-io.md "Class labels"), score
 * threshold, skip x2 < x1 / y2 < y1 and unknown classes (as the DeepStream parser does), undo
 * the letterbox, clip to the image. Pure.
 */
export interface Detection {
  readonly label: string;
  readonly classId: number;
  readonly score: number;
  readonly box: Box;
}

export interface NmsOutputs {
  readonly count: number;
  readonly boxes: Float32Array;
  readonly scores: Float32Array;
  readonly classes: Float32Array;
}

export interface PostprocessOptions {
  readonly labels: readonly string[];
  readonly threshold: number;
  readonly maxDetections: number;
  readonly normalized: boolean;
}

export function toDetections(out: NmsOutputs, p: Placement, o: PostprocessOptions): Detection[] {
  const dets: Detection[] = [];
  const n = Math.min(out.count, out.scores.length);
  for (let i = 0; i < n && dets.length < o.maxDetections; i++) {
    const score = out.scores[i]!;
    if (score < o.threshold) continue;
    const classId = Math.trunc(out.classes[i]!);
    const label = o.labels[classId];
    if (label === undefined || classId < 0) continue;
    const raw = { x1: out.boxes[i * 4]!, y1: out.boxes[i * 4 + 1]!, x2: out.boxes[i * 4 + 2]!, y2: out.boxes[i * 4 + 3]! };
    if (raw.x2 < raw.x1 || raw.y2 < raw.y1) continue;
    const box = clipToImage(toImageBox(raw, p, o.normalized), p.srcWidth, p.srcHeight);
    if (!box) continue;
    dets.push({ label, classId, score, box: { x1: round2(box.x1), y1: round2(box.y1), x2: round2(box.x2), y2: round2(box.y2) } });
  }
  return dets;
}

const round2 = (v: number): number => Math.round(v * 100) / 100;

export interface BoxDetectionOptions {
  readonly labels: readonly string[];
  readonly threshold: number;
  readonly maxDetections: number;
  /** Class filter (1 = keep); null = every class. */
  readonly allowed: Uint8Array | null;
}

/**
 * A family decoder's boxes (model-input pixels, inference/decoders) → detections in
 * original-image pixels, with the same rules as toDetections: score threshold, unknown and
 * filtered classes and inverted boxes skipped, letterbox undone, clipped to the image. Pure.
 */
export function boxesToDetections(b: DecodedBoxes, p: Placement, o: BoxDetectionOptions): Detection[] {
  const dets: Detection[] = [];
  for (let i = 0; i < b.count && dets.length < o.maxDetections; i++) {
    const score = b.scores[i]!;
    if (score < o.threshold) continue;
    const classId = b.classes[i]!;
    const label = o.labels[classId];
    if (label === undefined || classId < 0 || (o.allowed && o.allowed[classId] !== 1)) continue;
    const raw = { x1: b.boxes[i * 4]!, y1: b.boxes[i * 4 + 1]!, x2: b.boxes[i * 4 + 2]!, y2: b.boxes[i * 4 + 3]! };
    if (raw.x2 < raw.x1 || raw.y2 < raw.y1) continue;
    const box = clipToImage(toImageBox(raw, p, false), p.srcWidth, p.srcHeight);
    if (!box) continue;
    dets.push({ label, classId, score, box: { x1: round2(box.x1), y1: round2(box.y1), x2: round2(box.x2), y2: round2(box.y2) } });
  }
  return dets;
}
