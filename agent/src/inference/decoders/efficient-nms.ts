import { BoxList, need, type Decoder } from './types.js';

/**
 * EfficientNMS_TRT outputs (TensorRT OSS plugin/efficientNMSPlugin/README.md "Outputs"):
 * num_detections [B,1] int32, detection_boxes [B,N,4] always corners x1 y1 x2 y2 whatever the
 * input box_coding, detection_scores [B,N], detection_classes [B,N] **int32**. The first
 * num_detections rows are valid. Coordinates are what the network produced: input pixels for
 * re-exported YOLOs, [0,1] where `boxesNormalized` says so.
 */
export const decodeEfficientNms: Decoder = (outputs, ctx) => {
  const count = need(outputs, 0, 'efficient-nms', 'num_detections').data[0] ?? 0;
  const boxes = need(outputs, 1, 'efficient-nms', 'detection_boxes').data;
  const scores = need(outputs, 2, 'efficient-nms', 'detection_scores').data;
  const classes = need(outputs, 3, 'efficient-nms', 'detection_classes').data;
  const sx = ctx.params.boxesNormalized ? ctx.netWidth : 1;
  const sy = ctx.params.boxesNormalized ? ctx.netHeight : 1;
  const n = Math.min(count, scores.length);
  const out = new BoxList(Math.max(1, n));
  for (let i = 0; i < n; i++) out.push(boxes[i * 4]! * sx, boxes[i * 4 + 1]! * sy, boxes[i * 4 + 2]! * sx, boxes[i * 4 + 3]! * sy, scores[i]!, Math.trunc(classes[i]!));
  return out.done();
};
