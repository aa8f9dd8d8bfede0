import { DONT_CARE, type KittiObject } from '../dataset/kitti-label.js';
import type { Placement } from '../inference/letterbox.js';
import type { Box, GroundTruth, Prediction } from './ap.js';
import type { ClassMapping } from './eval-spec.js';

/**
 * KITTI label objects → the boxes an evaluation counts, as TAO's YOLO data loaders prepare
 * them (docs/reference/voc-eval.md, "Ground truth as TAO loads it"). Pure.
 *
 * - the type is lower-cased and mapped through target_class_mapping; any other type
 *   (DontCare included, unless the mapping names it) is dropped;
 * - difficult = occluded ≠ 0 (TAO's rule: any occlusion, KITTI's 1 "partly" included);
 * - the box is clipped to the network input in its normalised frame, and dropped when it is
 *   no wider or taller than 1e-3 there.
 */
export interface GroundTruthStats {
  /** Lower-cased types outside the mapping, with their count (DontCare listed apart). */
  readonly unmapped: Map<string, number>;
  dontCare: number;
  /** Boxes dropped as degenerate after clipping. */
  tiny: number;
}

export function newStats(): GroundTruthStats {
  return { unmapped: new Map(), dontCare: 0, tiny: 0 };
}

/** Image pixels → the network's normalised frame (placement from the model's resize). */
function toNet(b: Box, p: Placement): Box {
  return {
    x1: (b.x1 * p.scaleX + p.left) / p.netWidth,
    y1: (b.y1 * p.scaleY + p.top) / p.netHeight,
    x2: (b.x2 * p.scaleX + p.left) / p.netWidth,
    y2: (b.y2 * p.scaleY + p.top) / p.netHeight,
  };
}

function fromNet(b: Box, p: Placement): Box {
  return {
    x1: (b.x1 * p.netWidth - p.left) / p.scaleX,
    y1: (b.y1 * p.netHeight - p.top) / p.scaleY,
    x2: (b.x2 * p.netWidth - p.left) / p.scaleX,
    y2: (b.y2 * p.netHeight - p.top) / p.scaleY,
  };
}

const clip01 = (v: number): number => Math.min(1, Math.max(0, v));

/** Ground truth in image pixels (clipped as TAO clips it), ready for computeAp. */
export function toGroundTruth(objects: readonly KittiObject[], mapping: ClassMapping, placement: Placement, stats: GroundTruthStats = newStats()): GroundTruth[] {
  const out: GroundTruth[] = [];
  for (const o of objects) {
    const type = o.type.toLowerCase();
    const target = mapping.map.get(type);
    if (target === undefined) {
      if (type === DONT_CARE) stats.dontCare++;
      else stats.unmapped.set(type, (stats.unmapped.get(type) ?? 0) + 1);
      continue;
    }
    const n = toNet(o.box, placement);
    const c = { x1: clip01(n.x1), y1: clip01(n.y1), x2: clip01(n.x2), y2: clip01(n.y2) };
    if (!(c.x2 - c.x1 > 1e-3) || !(c.y2 - c.y1 > 1e-3)) {
      stats.tiny++;
      continue;
    }
    out.push({ classId: mapping.classes.indexOf(target), difficult: o.occluded !== 0, box: fromNet(c, placement) });
  }
  return out;
}

/**
 * Saved predictions (KITTI lines with a score, as `tao inference` writes them: the target
 * class name first) → predictions. A source type of the mapping is accepted too. Types the
 * mapping does not know are returned apart: the caller reports them.
 */
export function toPredictions(objects: readonly KittiObject[], mapping: ClassMapping): { preds: Prediction[]; unknown: KittiObject[] } {
  const preds: Prediction[] = [];
  const unknown: KittiObject[] = [];
  for (const o of objects) {
    const type = o.type.toLowerCase();
    let id = mapping.classes.indexOf(type);
    if (id < 0) {
      const t = mapping.map.get(type);
      id = t === undefined ? -1 : mapping.classes.indexOf(t);
    }
    if (id < 0) unknown.push(o);
    else preds.push({ classId: id, score: o.score ?? 0, box: o.box });
  }
  return { preds, unknown };
}
