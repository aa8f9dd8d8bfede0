import { BoxList, need, type Decoder } from './types.js';

/**
 * A graph with ONNX `NonMaxSuppression` inside (ONNX model zoo YOLOv3/v4): boxes [1,N,4],
 * scores [1,C,N] and the operator's `selected_indices` [M,3] of (batch, class, box), int64 in
 * ONNX (the spec, operators/NonMaxSuppression). Each triple is one detection: the box of that
 * index, the score of that class. Boxes are y1 x1 y2 x2 (the operator's default
 * center_point_box 0, TensorFlow order) unless `boxOrder` is xyxy; with the `image_shape` input
 * fed the network size (manifest extraInputs `input-hw`) they are in input pixels.
 */
export const decodeOnnxNms: Decoder = (outputs, ctx) => {
  const boxes = need(outputs, 0, 'onnx-nms', 'boxes');
  const scores = need(outputs, 1, 'onnx-nms', 'scores');
  const sel = need(outputs, 2, 'onnx-nms', 'selected_indices');
  const N = boxes.dims[1] ?? 0;
  const C = scores.dims[1] ?? 0;
  const yx = (ctx.params.boxOrder ?? 'yxyx') === 'yxyx';
  const sx = ctx.params.boxesNormalized ? ctx.netWidth : 1;
  const sy = ctx.params.boxesNormalized ? ctx.netHeight : 1;
  const out = new BoxList();
  const b = boxes.data;
  for (let r = 0; r + 2 < sel.data.length; r += 3) {
    const batch = sel.data[r]!;
    const cls = sel.data[r + 1]!;
    const i = sel.data[r + 2]!;
    // Padding rows (some exporters pad with −1) and other batch items are skipped.
    if (batch !== 0 || cls < 0 || cls >= C || i < 0 || i >= N) continue;
    const o = i * 4;
    const [x1, y1, x2, y2] = yx ? [b[o + 1]!, b[o]!, b[o + 3]!, b[o + 2]!] : [b[o]!, b[o + 1]!, b[o + 2]!, b[o + 3]!];
    out.push(x1 * sx, y1 * sy, x2 * sx, y2 * sy, scores.data[cls * N + i]!, cls);
  }
  return out.done();
};
