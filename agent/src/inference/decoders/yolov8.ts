import { nmsCandidates } from './nms-candidates.js';
import { BoxList, need, type Decoder } from './types.js';

/**
 * Ultralytics YOLOv5u / YOLOv8 / YOLO11: [B,4+nc,N] — transposed: channel-major — with cx cy w h
 * (input pixels) then class scores, no objectness. As ultralytics' non_max_suppression (single
 * label): score = best class score > conf, NMS per class at the IoU threshold, at most max_det.
 */
export const decodeYoloV8: Decoder = (outputs, ctx) => {
  const t = need(outputs, 0, 'yolov8', 'predictions');
  const ch = t.dims[1] ?? 0;
  const N = t.dims[2] ?? 0;
  const d = t.data;
  const thr = ctx.scoreThreshold;
  const cand = new BoxList();
  for (let i = 0; i < N; i++) {
    let best = 0;
    let cls = 0;
    for (let c = 4; c < ch; c++) {
      const s = d[c * N + i]!;
      if (s > best) {
        best = s;
        cls = c - 4;
      }
    }
    if (!(best > thr)) continue;
    const cx = d[i]!;
    const cy = d[N + i]!;
    const hw = d[2 * N + i]! / 2;
    const hh = d[3 * N + i]! / 2;
    cand.push(cx - hw, cy - hh, cx + hw, cy + hh, best, cls);
  }
  return nmsCandidates(cand.done(), ctx.iouThreshold, ctx.maxDetections, ctx.params.classAgnostic ?? false, ctx.allowed);
};
