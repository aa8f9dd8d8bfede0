import { AgentError } from '../core/errors.js';
import type { DetectResult } from './model-runtime.js';

/** A package's golden images (model.json `golden`) with the image bytes loaded. */
export interface GoldenSet {
  readonly iouTolerance: number;
  readonly scoreTolerance: number;
  readonly cases: readonly {
    readonly image: string;
    readonly bytes: Uint8Array;
    readonly detections: readonly { classId: number; score: number; box: { x1: number; y1: number; x2: number; y2: number } }[];
  }[];
}

type B = { x1: number; y1: number; x2: number; y2: number };
export function boxIou(a: B, b: B): number {
  const iw = Math.min(a.x2, b.x2) - Math.max(a.x1, b.x1);
  const ih = Math.min(a.y2, b.y2) - Math.max(a.y1, b.y1);
  if (iw <= 0 || ih <= 0) return 0;
  const inter = iw * ih;
  return inter / ((a.x2 - a.x1) * (a.y2 - a.y1) + (b.x2 - b.x1) * (b.y2 - b.y1) - inter);
}

/**
 * Every expected detection must be matched by one produced detection of the same class with
 * IoU ≥ iouTolerance and |Δscore| ≤ scoreTolerance, and there must be no unmatched extras.
 */
export async function compareGolden(set: GoldenSet, detect: (img: Uint8Array) => Promise<DetectResult>, model: string): Promise<void> {
  for (const c of set.cases) {
    const got = (await detect(c.bytes)).detections;
    const used = new Set<number>();
    const problems: string[] = [];
    for (const want of c.detections) {
      let best = -1;
      let bestIou = 0;
      got.forEach((g, i) => {
        if (used.has(i) || g.classId !== want.classId || Math.abs(g.score - want.score) > set.scoreTolerance) return;
        const v = boxIou(g.box, want.box);
        if (v >= set.iouTolerance && v > bestIou) {
          best = i;
          bestIou = v;
        }
      });
      if (best < 0) problems.push(`no match for class ${want.classId} score ${want.score.toFixed(3)}`);
      else used.add(best);
    }
    const extra = got.length - used.size;
    if (extra > 0) problems.push(`${extra} unexpected detection(s)`);
    if (problems.length > 0) {
      throw new AgentError('GOLDEN_MISMATCH', `Model ${model} fails golden image ${c.image}: ${problems.slice(0, 3).join('; ')}.`, {
        hint: 'The previous model keeps serving. Check the conversion (precision, preprocessing) or regenerate the golden set.',
        details: { image: c.image, expected: c.detections.length, got: got.length },
      });
    }
  }
}
