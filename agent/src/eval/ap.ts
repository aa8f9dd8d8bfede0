import type { ApMode } from './eval-spec.js';

/**
 * Per-class average precision and mAP with the numbers TAO's YOLO evaluators print
 * (docs/models.md "Evaluation: the exact rules"; facts in docs/reference/voc-eval.md). Pure.
 *
 * Coordinates are continuous (no +1 pixel); both sides must use the same frame.
 */
export interface Box {
  readonly x1: number;
  readonly y1: number;
  readonly x2: number;
  readonly y2: number;
}

export interface GroundTruth {
  readonly classId: number;
  /** Neither a hit nor a miss; a detection on it is neither TP nor FP. */
  readonly difficult: boolean;
  readonly box: Box;
}

export interface Prediction {
  readonly classId: number;
  readonly score: number;
  readonly box: Box;
}

/** One image: its ground truth and what the model found. */
export interface ImageResult {
  readonly gt: readonly GroundTruth[];
  readonly preds: readonly Prediction[];
}

export interface ApOptions {
  readonly classes: readonly string[];
  readonly mode: ApMode;
  /** A detection matches at IoU ≥ this. */
  readonly iouThreshold: number;
  /** Detections with score ≤ this are dropped (TAO keeps score > nms_config.confidence_threshold). */
  readonly confidenceThreshold: number;
  /** SAMPLE mode only; VOC2007 uses 11. */
  readonly recallPoints?: number;
}

export interface ClassAp {
  readonly name: string;
  readonly ap: number;
  /** TP / (TP + FP) over every kept detection; 0 without detections. */
  readonly precision: number;
  /** TP / ground truth (difficult excluded); 0 without ground truth. */
  readonly recall: number;
  /** Ground-truth boxes that count (not difficult). */
  readonly groundTruth: number;
  readonly difficult: number;
  readonly tp: number;
  readonly fp: number;
  /** Detections that matched a difficult box (ignored). */
  readonly ignored: number;
}

export interface ApResult {
  readonly classes: ClassAp[];
  /** Mean AP over every class, those without ground truth included as 0 (as TAO prints it). */
  readonly map: number;
  /** Mean AP over the classes that have ground truth; null when none has. */
  readonly mapWithGroundTruth: number | null;
}

export function iou(a: Box, b: Box): number {
  const iw = Math.max(0, Math.min(a.x2, b.x2) - Math.max(a.x1, b.x1));
  const ih = Math.max(0, Math.min(a.y2, b.y2) - Math.max(a.y1, b.y1));
  const inter = iw * ih;
  const union = (a.x2 - a.x1) * (a.y2 - a.y1) + (b.x2 - b.x1) * (b.y2 - b.y1) - inter;
  return union > 0 ? inter / union : 0;
}

/** Stable sort by descending score: equal scores keep their order (image order, then NMS order). */
function byScoreDesc<T extends { readonly score: number }>(items: readonly T[]): T[] {
  return items
    .map((it, i) => ({ it, i }))
    .sort((a, b) => b.it.score - a.it.score || a.i - b.i)
    .map((x) => x.it);
}

interface Entry {
  readonly score: number;
  readonly tp: boolean;
}

/**
 * Greedy matching in one image (TAO `_per_img_match`): detections by descending score; each
 * looks only at the still-unmatched boxes of its class, takes the one with the highest IoU
 * (the first on a tie) when that IoU ≥ the threshold and consumes it. A match on a difficult
 * box is ignored; no match is a false positive.
 */
function matchImage(img: ImageResult, o: ApOptions, entries: Entry[][], ignored: number[]): void {
  const byClass = o.classes.map(() => [] as GroundTruth[]);
  for (const g of img.gt) byClass[g.classId]?.push(g);
  const used = byClass.map((gs) => gs.map(() => false));
  for (const p of byScoreDesc(img.preds.filter((p) => p.score > o.confidenceThreshold))) {
    const gts = byClass[p.classId];
    const taken = used[p.classId];
    const out = entries[p.classId];
    if (!gts || !taken || !out) continue;
    let best = -1;
    let bestIou = 0;
    gts.forEach((g, j) => {
      if (taken[j]) return;
      const v = iou(p.box, g.box);
      if (v > bestIou) {
        bestIou = v;
        best = j;
      }
    });
    if (best >= 0 && bestIou >= o.iouThreshold) {
      taken[best] = true;
      if (gts[best]!.difficult) ignored[p.classId]!++;
      else out.push({ score: p.score, tp: true });
    } else out.push({ score: p.score, tp: false });
  }
}

/** 11-point (or n-point) interpolated AP: recall samples as numpy.linspace(0, 1, n) floats. */
export function sampledAp(rec: readonly number[], prec: readonly number[], points = 11): number {
  let ap = 0;
  const step = 1 / (points - 1);
  for (let i = 0; i < points; i++) {
    // numpy.linspace: start + i·step, the last sample exactly `stop` (0.30000000000000004 …).
    const t = i === points - 1 ? 1 : i * step;
    let p = 0;
    for (let k = 0; k < rec.length; k++) if (rec[k]! >= t && prec[k]! > p) p = prec[k]!;
    ap += p / points;
  }
  return ap;
}

/** Area under the monotone precision envelope (VOC2010+), with sentinels at recall 0 and 1. */
export function integratedAp(rec: readonly number[], prec: readonly number[]): number {
  const mrec = [0, ...rec, 1];
  const mpre = [0, ...prec, 0];
  for (let i = mpre.length - 1; i > 0; i--) mpre[i - 1] = Math.max(mpre[i - 1]!, mpre[i]!);
  let ap = 0;
  for (let i = 0; i < mrec.length - 1; i++) if (mrec[i + 1] !== mrec[i]) ap += (mrec[i + 1]! - mrec[i]!) * mpre[i + 1]!;
  return ap;
}

export function computeAp(images: readonly ImageResult[], o: ApOptions): ApResult {
  if (!(o.iouThreshold > 0 && o.iouThreshold <= 1)) throw new RangeError(`IoU threshold ${o.iouThreshold} is outside (0, 1]`);
  const points = o.recallPoints ?? 11;
  if (!Number.isInteger(points) || points < 2) throw new RangeError(`recall points ${points} must be an integer ≥ 2`);
  const entries = o.classes.map(() => [] as Entry[]);
  const ignored = o.classes.map(() => 0);
  const npos = o.classes.map(() => 0);
  const hard = o.classes.map(() => 0);
  for (const img of images) {
    for (const g of img.gt) {
      if (g.classId < 0 || g.classId >= o.classes.length) continue;
      if (g.difficult) hard[g.classId]!++;
      else npos[g.classId]!++;
    }
    matchImage(img, o, entries, ignored);
  }
  const classes = o.classes.map((name, c): ClassAp => {
    const sorted = byScoreDesc(entries[c]!);
    const n = npos[c]!;
    const rec: number[] = [];
    const prec: number[] = [];
    let tp = 0;
    let fp = 0;
    for (const e of sorted) {
      if (e.tp) tp++;
      else fp++;
      prec.push(tp / (tp + fp));
      rec.push(n > 0 ? tp / n : 0);
    }
    const ap = o.mode === 'sample' ? sampledAp(rec, prec, points) : integratedAp(rec, prec);
    return { name, ap, precision: tp + fp > 0 ? tp / (tp + fp) : 0, recall: n > 0 ? tp / n : 0, groundTruth: n, difficult: hard[c]!, tp, fp, ignored: ignored[c]! };
  });
  const withGt = classes.filter((c) => c.groundTruth > 0);
  const mean = (xs: readonly ClassAp[]): number => xs.reduce((s, c) => s + c.ap, 0) / xs.length;
  return { classes, map: classes.length ? mean(classes) : 0, mapWithGroundTruth: withGt.length ? mean(withGt) : null };
}
