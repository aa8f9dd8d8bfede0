import { batchedNms } from '../nms.js';
import { BoxList, need, type Decoder } from './types.js';

/**
 * TAO YOLOv3/v4/v4-tiny (and SSD) with BatchedNMS: either the plugin's four outputs (TensorRT
 * engine, or a graph that computes them) — count [1,1], boxes [1,K,4], scores [1,K], classes
 * [1,K] as floats — or, with the node cut for ONNX Runtime, boxes and scores fed through the
 * plugin's kernels in code (inference/nms.ts). Rows past the count are ignored; boxes are
 * normalised unless the node says isNormalized 0 (docs/reference/batched-nms.md).
 */
export const decodeTaoBatchedNms: Decoder = (outputs, ctx) => {
  let count: number;
  let boxes: ArrayLike<number>;
  let scores: ArrayLike<number>;
  let classes: ArrayLike<number>;
  let normalized = true;
  if (ctx.batchedNms) {
    const b = need(outputs, 0, 'tao-batched-nms', 'boxes');
    const s = need(outputs, 1, 'tao-batched-nms', 'scores');
    const r = batchedNms(b.data, s.data, s.dims[1] ?? 0, ctx.batchedNms);
    ({ count, boxes, scores, classes } = r);
    normalized = ctx.batchedNms.isNormalized;
  } else {
    count = need(outputs, 0, 'tao-batched-nms', 'count').data[0] ?? 0;
    boxes = need(outputs, 1, 'tao-batched-nms', 'boxes').data;
    scores = need(outputs, 2, 'tao-batched-nms', 'scores').data;
    classes = need(outputs, 3, 'tao-batched-nms', 'classes').data;
  }
  const sx = normalized ? ctx.netWidth : 1;
  const sy = normalized ? ctx.netHeight : 1;
  const out = new BoxList(Math.max(1, count));
  for (let i = 0; i < Math.min(count, scores.length); i++) {
    out.push(boxes[i * 4]! * sx, boxes[i * 4 + 1]! * sy, boxes[i * 4 + 2]! * sx, boxes[i * 4 + 3]! * sy, scores[i]!, Math.trunc(classes[i]!));
  }
  return out.done();
};
