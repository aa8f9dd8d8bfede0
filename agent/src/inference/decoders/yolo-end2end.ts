import { BoxList, need, type Decoder } from './types.js';

/**
 * End-to-end heads without NMS (Ultralytics YOLO26's default export, YOLOv10): [B,300,6] rows of
 * x1 y1 x2 y2 score class, in input pixels, best first. Only the score threshold applies
 * (Ultralytics' postprocess for end2end models).
 */
export const decodeYoloEnd2end: Decoder = (outputs, ctx) => {
  const t = need(outputs, 0, 'yolo-end2end', 'detections');
  const rows = t.dims[1] ?? 0;
  const w = t.dims[2] ?? 6;
  const d = t.data;
  const sx = ctx.params.boxesNormalized ? ctx.netWidth : 1;
  const sy = ctx.params.boxesNormalized ? ctx.netHeight : 1;
  const out = new BoxList();
  for (let i = 0; i < rows && out.length < ctx.maxDetections; i++) {
    const o = i * w;
    const score = d[o + 4]!;
    if (!(score > ctx.scoreThreshold)) continue;
    out.push(d[o]! * sx, d[o + 1]! * sy, d[o + 2]! * sx, d[o + 3]! * sy, score, Math.trunc(d[o + 5]!));
  }
  return out.done();
};
