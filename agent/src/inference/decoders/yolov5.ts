import { nmsCandidates } from './nms-candidates.js';
import { BoxList, need, type Decoder } from './types.js';

/**
 * Ultralytics YOLOv5 classic head: [B,N,5+nc] rows of cx cy w h (input pixels), objectness,
 * class scores (sigmoids applied in the graph). As yolov5's non_max_suppression (single label):
 * candidates with obj > conf, score = obj × best class score > conf, boxes to corners, NMS per
 * class at the IoU threshold, at most max_det.
 */
export const decodeYoloV5: Decoder = (outputs, ctx) => {
  const t = need(outputs, 0, 'yolov5', 'predictions');
  const N = t.dims[1] ?? 0;
  const w = t.dims[2] ?? 0;
  const d = t.data;
  const thr = ctx.scoreThreshold;
  const cand = new BoxList();
  for (let i = 0; i < N; i++) {
    const o = i * w;
    const obj = d[o + 4]!;
    if (!(obj > thr)) continue;
    let best = 0;
    let cls = 0;
    for (let c = 5; c < w; c++) {
      const s = d[o + c]! * obj;
      if (s > best) {
        best = s;
        cls = c - 5;
      }
    }
    if (!(best > thr)) continue;
    const cx = d[o]!;
    const cy = d[o + 1]!;
    const hw = d[o + 2]! / 2;
    const hh = d[o + 3]! / 2;
    cand.push(cx - hw, cy - hh, cx + hw, cy + hh, best, cls);
  }
  return nmsCandidates(cand.done(), ctx.iouThreshold, ctx.maxDetections, ctx.params.classAgnostic ?? false, ctx.allowed);
};
