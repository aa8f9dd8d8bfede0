import { nmsCandidates } from './nms-candidates.js';
import { BoxList, need, type Decoder } from './types.js';

/**
 * YOLOX exported without decode: [B,N,5+nc], one row per grid cell of strides 8/16/32 in that
 * order, row-major within a stride. As YOLOX's demo_postprocess + multiclass_nms: cell (gx, gy)
 * of stride s gives cx = (x + gx)·s, cy = (y + gy)·s, w = exp(w)·s, h = exp(h)·s (input pixels);
 * score = obj × best class score, kept when > conf (multiclass_nms' `cls_scores > score_thr`);
 * NMS at the IoU threshold, class-agnostic by default as the YOLOX demo runs it.
 */
export const decodeYolox: Decoder = (outputs, ctx) => {
  const t = need(outputs, 0, 'yolox', 'predictions');
  const N = t.dims[1] ?? 0;
  const w = t.dims[2] ?? 0;
  const d = t.data;
  const strides = ctx.params.strides ?? [8, 16, 32];
  const thr = ctx.scoreThreshold;
  const expected = strides.reduce((n, s) => n + Math.floor(ctx.netWidth / s) * Math.floor(ctx.netHeight / s), 0);
  if (expected !== N) throw new Error(`yolox: ${N} rows, but strides ${strides.join('/')} on ${ctx.netWidth}×${ctx.netHeight} give ${expected}`);
  const cand = new BoxList();
  let row = 0;
  for (const s of strides) {
    const gw = Math.floor(ctx.netWidth / s);
    const gh = Math.floor(ctx.netHeight / s);
    for (let gy = 0; gy < gh; gy++) {
      for (let gx = 0; gx < gw; gx++, row++) {
        const o = row * w;
        const obj = d[o + 4]!;
        let best = 0;
        let cls = 0;
        for (let c = 5; c < w; c++) {
          const v = d[o + c]!;
          if (v > best) {
            best = v;
            cls = c - 5;
          }
        }
        const score = obj * best;
        if (!(score > thr)) continue;
        const cx = (d[o]! + gx) * s;
        const cy = (d[o + 1]! + gy) * s;
        const bw = Math.exp(d[o + 2]!) * s;
        const bh = Math.exp(d[o + 3]!) * s;
        cand.push(cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2, score, cls);
      }
    }
  }
  return nmsCandidates(cand.done(), ctx.iouThreshold, ctx.maxDetections, ctx.params.classAgnostic ?? true, ctx.allowed);
};
