import t from 'tap';
import { DECODERS } from '../../../agent/src/inference/decoders/registry.js';
import { dbscan } from '../../../agent/src/inference/decoders/detectnet-v2.js';
import type { DecodeContext, DecodedBoxes } from '../../../agent/src/inference/decoders/types.js';
import type { TensorData } from '../../../agent/src/inference/engine.js';

/**
 * Decoder table tests, one per family, on tensors small enough to work out by hand (the
 * expected values are derived in each comment from the family's layout: docs/reference/model-families.md).
 */
const ctx = (o: Partial<DecodeContext> = {}): DecodeContext => ({
  netWidth: 64,
  netHeight: 32,
  numClasses: 2,
  params: {},
  scoreThreshold: 0.25,
  iouThreshold: 0.5,
  maxDetections: 100,
  batchedNms: null,
  ...o,
});
const f = (dims: number[], v: number[]): TensorData => ({ dims, data: Float32Array.from(v) });
const i32 = (dims: number[], v: number[]): TensorData => ({ dims, data: Int32Array.from(v) });
const r4 = (v: number): number => Math.round(v * 1e4) / 1e4;
const rows = (d: DecodedBoxes): number[][] =>
  Array.from({ length: d.count }, (_, i) => [...Array.from(d.boxes.subarray(i * 4, i * 4 + 4), r4), r4(d.scores[i]!), d.classes[i]!]);

t.test('tao-batched-nms: four plugin outputs, normalised, first count rows', async (t) => {
  const out = DECODERS['tao-batched-nms'].decode(
    [f([1, 1], [1]), f([1, 2, 4], [0.25, 0.5, 0.5, 1, 0, 0, 0, 0]), f([1, 2], [0.9, 0]), f([1, 2], [1, -1])],
    ctx(),
  );
  // 0.25·64 = 16, 0.5·32 = 16, 0.5·64 = 32, 1·32 = 32.
  t.same(rows(out), [[16, 16, 32, 32, 0.9, 1]]);
});

t.test('tao-batched-nms: cut graph, NMS in code with the node attributes (pixel boxes)', async (t) => {
  const nms = { shareLocation: true, backgroundLabelId: -1, numClasses: 1, topK: 4, keepTopK: 2, scoreThreshold: 0.1, iouThreshold: 0.5, isNormalized: false, clipBoxes: false, caffeSemantics: true, scoreBits: 16 };
  // Two identical pixel boxes: the second is suppressed; isNormalized 0 keeps pixels as they are.
  const out = DECODERS['tao-batched-nms'].decode([f([1, 2, 1, 4], [2, 3, 10, 12, 2, 3, 10, 12]), f([1, 2, 1], [0.8, 0.7])], ctx({ batchedNms: nms }));
  t.same(rows(out), [[2, 3, 10, 12, 0.8, 0]]);
});

t.test('efficient-nms: int32 count and classes, corner boxes in pixels', async (t) => {
  const out = DECODERS['efficient-nms'].decode([i32([1, 1], [2]), f([1, 3, 4], [1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0]), f([1, 3], [0.9, 0.6, 0]), i32([1, 3], [1, 0, 0])], ctx());
  t.same(rows(out), [
    [1, 2, 3, 4, 0.9, 1],
    [5, 6, 7, 8, 0.6, 0],
  ]);
  const norm = DECODERS['efficient-nms'].decode([i32([1, 1], [1]), f([1, 1, 4], [0.5, 0.5, 1, 1]), f([1, 1], [0.9]), i32([1, 1], [0])], ctx({ params: { boxesNormalized: true } }));
  t.same(rows(norm), [[32, 16, 64, 32, 0.9, 0]], 'boxesNormalized scales by the input size');
});

t.test('onnx-nms: selected (batch, class, box) triples, y1x1y2x2 boxes', async (t) => {
  // Box 1 = y1 2, x1 4, y2 12, x2 20 → x1 4, y1 2, x2 20, y2 12; class 1 score of box 1 = scores[1·2 + 1] = 0.7.
  const boxes = f([1, 2, 4], [0, 0, 1, 1, 2, 4, 12, 20]);
  const scores = f([1, 2, 2], [0.1, 0.2, 0.3, 0.7]);
  const sel = i32([2, 3], [0, 1, 1, -1, -1, -1]);
  t.same(rows(DECODERS['onnx-nms'].decode([boxes, scores, sel], ctx())), [[4, 2, 20, 12, 0.7, 1]], 'a padding row of −1 is skipped');
});

t.test('detectnet-v2: stride 16, bbox_norm 35, offset 0.5, then NMS', async (t) => {
  // One class, a 2×2 grid (input 32×32). Cell (i=1, j=0): cx = (16 + 0.5)/35, cy = 0.5/35.
  // Offsets o = (0.2, 0.1, 0.3, 0.4): x1 = (cx − 0.2)·35 = 16.5 − 7 = 9.5, y1 = 0.5 − 3.5 = −3,
  // x2 = 0.3·35 + 16.5 = 27, y2 = 0.4·35 + 0.5 = 14.5. Only that cell is above 0.25.
  const cov = f([1, 1, 2, 2], [0.1, 0.9, 0.2, 0.25]);
  const bbox = f([1, 4, 2, 2], [0, 0.2, 0, 0, 0, 0.1, 0, 0, 0, 0.3, 0, 0, 0, 0.4, 0, 0]);
  t.same(rows(DECODERS['detectnet-v2'].decode([cov, bbox], ctx({ netWidth: 32, netHeight: 32, numClasses: 1 }))), [[9.5, -3, 27, 14.5, 0.9, 0]]);
});

t.test('detectnet-v2 DBSCAN: a dense cluster becomes one weighted box, a lone box is noise', async (t) => {
  const c: DecodedBoxes = {
    count: 4,
    boxes: Float64Array.from([0, 0, 10, 10, 0, 0, 10, 11, 1, 0, 10, 10, 50, 50, 60, 60]),
    scores: Float32Array.from([0.5, 0.5, 1, 0.9]),
    classes: Int32Array.from([0, 0, 0, 0]),
  };
  // Pairwise IoU of the first three ≥ 0.9 (distance < 0.2); weights 0.5, 0.5, 1:
  // x1 = (0 + 0 + 1)/2 = 0.5, y2 = (5 + 5.5 + 10)/2 = 10.25; the fourth has no neighbour.
  t.same(rows(dbscan(c, 0.2, 3, 10)), [[0.5, 0, 10, 10.25, 1, 0]]);
});

t.test('yolov5: obj × class, centre-size to corners, NMS per class', async (t) => {
  // Rows: cx cy w h obj c0 c1. Row 0: 0.9·0.8 = 0.72 class 0; row 1 overlaps row 0 fully with
  // 0.8·0.8 = 0.64 class 0 → suppressed; row 2: same box, class 1 0.9·0.5 = 0.45 → kept (other class);
  // row 3: obj 0.2 ≤ 0.25 → no candidate.
  const p = f([1, 4, 7], [20, 10, 8, 4, 0.9, 0.8, 0.1, 20, 10, 8, 4, 0.8, 0.8, 0.1, 20, 10, 8, 4, 0.9, 0.1, 0.5, 5, 5, 2, 2, 0.2, 0.9, 0.9]);
  t.same(rows(DECODERS.yolov5.decode([p], ctx())), [
    [16, 8, 24, 12, 0.72, 0],
    [16, 8, 24, 12, 0.45, 1],
  ]);
});

t.test('yolov8: transposed [1, 4+nc, N], no objectness', async (t) => {
  // N = 3 anchors, channel-major. Anchor 0: (10, 10, 4, 4) class 1 0.9; anchor 1: same box class 1 0.8
  // (suppressed at IoU 1); anchor 2: (40, 20, 10, 6), class 0 0.3.
  const p = f([1, 6, 3], [10, 10, 40, 10, 10, 20, 4, 4, 10, 4, 4, 6, 0.1, 0.2, 0.3, 0.9, 0.8, 0.1]);
  t.same(rows(DECODERS.yolov8.decode([p], ctx())), [
    [8, 8, 12, 12, 0.9, 1],
    [35, 17, 45, 23, 0.3, 0],
  ]);
});

t.test('yolo-end2end: threshold only, rows as given', async (t) => {
  const p = f([1, 3, 6], [1, 2, 3, 4, 0.9, 2, 5, 6, 7, 8, 0.25, 1, 9, 9, 9, 9, 0.5, 0]);
  t.same(rows(DECODERS['yolo-end2end'].decode([p], ctx({ numClasses: 3 }))), [
    [1, 2, 3, 4, 0.9, 2],
    [9, 9, 9, 9, 0.5, 0],
  ], '0.25 is not above the 0.25 threshold');
});

t.test('yolox: grid decode over strides, obj × class, class-agnostic NMS', async (t) => {
  // Input 32×16, strides [16]: a 2×1 grid → 2 rows. Row 1 is cell gx 1, gy 0:
  // cx = (0.5 + 1)·16 = 24, cy = (0.5 + 0)·16 = 8, w = exp(0)·16 = 16, h = exp(ln 0.5)·16 = 8.
  const p = f([1, 2, 7], [0, 0, 0, 0, 0.1, 0.5, 0.5, 0.5, 0.5, 0, Math.log(0.5), 0.9, 0.2, 0.8]);
  const out = DECODERS.yolox.decode([p], ctx({ netWidth: 32, netHeight: 16, params: { strides: [16] } }));
  t.same(rows(out), [[16, 4, 32, 12, 0.72, 1]]);
  t.throws(() => DECODERS.yolox.decode([p], ctx({ netWidth: 64, netHeight: 16, params: { strides: [16] } })), /2 rows, but strides 16 on 64×16 give 4/);
});

t.test('detr: sigmoid per (query, class), top-k, cx cy w h normalised', async (t) => {
  // Logit ln(4) → sigmoid 0.8; query 1 box (0.5, 0.5, 0.25, 0.5) → 64×32 input: cx 32, cy 16, w 16, h 16.
  const logits = f([1, 2, 2], [-5, -5, -5, Math.log(4)]);
  const boxes = f([1, 2, 4], [0.1, 0.1, 0.1, 0.1, 0.5, 0.5, 0.25, 0.5]);
  t.same(rows(DECODERS.detr.decode([logits, boxes], ctx())), [[24, 8, 40, 24, 0.8, 1]]);
  // Softmax with a no-object last class: logits (ln 3, ln 1, ln 0.0…) → p(c0) = 3/4.
  const soft = DECODERS.detr.decode([f([1, 1, 3], [Math.log(3), -30, 0]), f([1, 1, 4], [0.5, 0.5, 0.5, 0.5])], ctx({ params: { scoreActivation: 'softmax' } }));
  t.same(rows(soft), [[16, 8, 48, 24, 0.75, 0]]);
});
