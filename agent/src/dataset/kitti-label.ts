/**
 * One parser for KITTI object labels (docs/reference/voc-eval.md, "KITTI label lines"): 15
 * space-separated fields per object — type, truncated, occluded, alpha, bbox (left top right
 * bottom, pixels), dimensions (3), location (3), rotation_y — and a 16th, the score, in
 * prediction files (what `tao inference` writes). Every problem carries its line. Pure.
 */
export interface KittiBox {
  readonly x1: number;
  readonly y1: number;
  readonly x2: number;
  readonly y2: number;
}

export interface KittiObject {
  /** 1-based line in the file. */
  readonly line: number;
  /** The type as written (case kept; matching lowercases it, as TAO does). */
  readonly type: string;
  readonly truncated: number;
  /** KITTI: 0 fully visible, 1 partly, 2 largely occluded, 3 unknown; DontCare writes -1. */
  readonly occluded: number;
  readonly box: KittiBox;
  /** Present in prediction files only. */
  readonly score?: number;
}

export type LabelProblemKind = 'fields' | 'not-numeric' | 'occlusion-not-integer' | 'box-order' | 'score-range';

export interface LabelProblem {
  readonly line: number;
  readonly kind: LabelProblemKind;
  readonly message: string;
}

export interface ParsedLabels {
  readonly objects: KittiObject[];
  readonly problems: LabelProblem[];
}

/** `labels`: 15 fields; `predictions`: 16 (the score last). */
export type LabelKind = 'labels' | 'predictions';

const FIELD_NAMES = [
  'type',
  'truncated',
  'occluded',
  'alpha',
  'bbox left',
  'bbox top',
  'bbox right',
  'bbox bottom',
  'height',
  'width',
  'length',
  'x',
  'y',
  'z',
  'rotation_y',
  'score',
];

// A decimal number as Python's float() reads it in TAO's loaders (no hex, no "1.0f").
const NUMBER = /^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$/;
// TAO reads the occlusion with int(): "0.00" raises there, so it is an error here too.
const INTEGER = /^[-+]?\d+$/;

export function parseKittiLabels(text: string, kind: LabelKind = 'labels'): ParsedLabels {
  const want = kind === 'labels' ? 15 : 16;
  const objects: KittiObject[] = [];
  const problems: LabelProblem[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, i) => {
    const line = i + 1;
    const f = raw.trim().split(/\s+/).filter((s) => s !== '');
    if (f.length === 0) return;
    if (f.length !== want) {
      problems.push({
        line,
        kind: 'fields',
        message:
          kind === 'labels' && f.length === 16
            ? `16 fields: a label line has 15 (a 16th, the score, belongs in prediction files)`
            : `${f.length} field${f.length === 1 ? '' : 's'}, expected ${want}${kind === 'predictions' ? ' (the 16th is the score)' : ''}`,
      });
      return;
    }
    const bad = f.slice(1).findIndex((v) => !NUMBER.test(v));
    if (bad >= 0) {
      problems.push({ line, kind: 'not-numeric', message: `field ${bad + 2} (${FIELD_NAMES[bad + 1] ?? '?'}) is "${f[bad + 1] ?? ''}", not a number` });
      return;
    }
    if (!INTEGER.test(f[2] ?? '')) {
      problems.push({ line, kind: 'occlusion-not-integer', message: `occluded is "${f[2] ?? ''}"; KITTI writes an integer (0–3, -1 for DontCare) and TAO reads it with int()` });
      return;
    }
    const n = f.map(Number);
    const box = { x1: n[4]!, y1: n[5]!, x2: n[6]!, y2: n[7]! };
    if (!(box.x1 < box.x2) || !(box.y1 < box.y2)) {
      problems.push({ line, kind: 'box-order', message: `box (${f[4]}, ${f[5]}, ${f[6]}, ${f[7]}) needs left < right and top < bottom` });
      return;
    }
    const obj: KittiObject = { line, type: f[0]!, truncated: n[1]!, occluded: n[2]!, box };
    if (kind === 'predictions') {
      const score = n[15]!;
      if (!(score >= 0 && score <= 1)) {
        problems.push({ line, kind: 'score-range', message: `score ${f[15]} is outside [0, 1]` });
        return;
      }
      objects.push({ ...obj, score });
    } else objects.push(obj);
  });
  return { objects, problems };
}

/** KITTI's "ignore this region" type; TAO drops it like any type outside target_class_mapping. */
export const DONT_CARE = 'dontcare';
