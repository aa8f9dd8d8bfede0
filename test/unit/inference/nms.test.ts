import t from 'tap';
import { batchedNms, iou } from '../../../agent/src/inference/nms.js';
import type { NmsAttributes } from '../../../agent/src/core/contracts/model.js';

const base: NmsAttributes = {
  shareLocation: true,
  backgroundLabelId: -1,
  numClasses: 2,
  topK: 10,
  keepTopK: 5,
  scoreThreshold: 0.3,
  iouThreshold: 0.5,
  isNormalized: true,
  clipBoxes: true,
};

const f32 = (a: number[]): Float32Array => new Float32Array(a);
const round = (a: Float32Array): number[] => Array.from(a).map((v) => Math.round(v * 1e4) / 1e4);

t.test('IoU by hand', async (t) => {
  // [0,0,2,2] vs [1,1,3,3]: intersection 1, union 4 + 4 − 1 = 7.
  t.equal(iou(f32([0, 0, 2, 2, 1, 1, 3, 3]), 0, 1), 1 / 7);
  t.equal(iou(f32([0, 0, 1, 1, 2, 2, 3, 3]), 0, 1), 0, 'disjoint');
  // caffe semantics (+1) on pixel boxes: [0,0,1,1] is 2×2; vs [1,1,2,2]: inter 1×1, union 4+4−1.
  t.equal(iou(f32([0, 0, 1, 1, 1, 1, 2, 2]), 0, 1, 1), 1 / 7);
});

t.test('per class greedy suppression, merge by score, keepTopK', async (t) => {
  // Box 0 and 1 overlap with IoU 0.81/1.0... computed: [0,0,.5,.5] vs [0,0,.5,.45] → 0.225/0.25 = 0.9.
  // Box 2 is far away. Box 3 overlaps box 0 with IoU = 0.0625/(0.25+0.25−0.0625) = 0.1428.
  const boxes = f32([0, 0, 0.5, 0.5, 0, 0, 0.5, 0.45, 0.6, 0.6, 0.9, 0.9, 0.25, 0.25, 0.75, 0.75]);
  const scores = f32([
    // class0, class1 per box
    0.9, 0.1,
    0.8, 0.7,
    0.2, 0.6,
    0.4, 0.35,
  ]);
  const r = batchedNms(boxes, scores, 4, base);
  // class 0: candidates ≥0.3 → 0 (0.9), 1 (0.8), 3 (0.4); 1 suppressed by 0 (IoU 0.9); keep 0, 3.
  // class 1: candidates → 1 (0.7), 2 (0.6), 3 (0.35); IoU(1,3) = 0.0625/(0.225+0.25−0.0625)=0.1515 keep all.
  // merged by score: 0.9 c0 b0, 0.7 c1 b1, 0.6 c1 b2, 0.4 c0 b3, 0.35 c1 b3 → 5 = keepTopK.
  t.equal(r.count, 5);
  t.same(round(r.scores), [0.9, 0.7, 0.6, 0.4, 0.35]);
  t.same(Array.from(r.classes), [0, 1, 1, 0, 1]);
  t.same(round(r.boxes.subarray(0, 8)), [0, 0, 0.5, 0.5, 0, 0, 0.5, 0.45]);
  t.same(round(r.boxes.subarray(8, 12)), [0.6, 0.6, 0.9, 0.9]);
  const k3 = batchedNms(boxes, scores, 4, { ...base, keepTopK: 3 });
  t.equal(k3.count, 3);
  t.equal(k3.scores.length, 3, 'outputs are sized keepTopK like the plugin');
});

t.test('topK limits candidates per class before suppression', async (t) => {
  const boxes = f32([0, 0, 0.1, 0.1, 0.2, 0.2, 0.3, 0.3, 0.4, 0.4, 0.5, 0.5]);
  const scores = f32([0.9, 0.8, 0.7]);
  const r = batchedNms(boxes, scores, 3, { ...base, numClasses: 1, topK: 2 });
  t.equal(r.count, 2);
  t.same(round(r.scores.subarray(0, 2)), [0.9, 0.8]);
});

t.test('IoU exactly at the threshold is kept (suppression is IoU > threshold)', async (t) => {
  // [0,0,1,1] vs [0,0,1,0.5]: IoU = 0.5.
  const r = batchedNms(f32([0, 0, 1, 1, 0, 0, 1, 0.5]), f32([0.9, 0.8]), 2, { ...base, numClasses: 1 });
  t.equal(r.count, 2);
});

t.test('clipBoxes clamps normalised boxes to [0,1]; off leaves them', async (t) => {
  const boxes = f32([-0.2, 0.1, 1.3, 0.8]);
  t.same(round(batchedNms(boxes, f32([0.9]), 1, { ...base, numClasses: 1 }).boxes.subarray(0, 4)), [0, 0.1, 1, 0.8]);
  t.same(round(batchedNms(boxes, f32([0.9]), 1, { ...base, numClasses: 1, clipBoxes: false }).boxes.subarray(0, 4)), [-0.2, 0.1, 1.3, 0.8]);
});

t.test('backgroundLabelId class is skipped; nothing above threshold gives count 0', async (t) => {
  const boxes = f32([0, 0, 0.5, 0.5]);
  const r = batchedNms(boxes, f32([0.9, 0.8]), 1, { ...base, backgroundLabelId: 0 });
  t.equal(r.count, 1);
  t.same(Array.from(r.classes.subarray(0, 1)), [1]);
  t.equal(batchedNms(boxes, f32([0.1, 0.2]), 1, base).count, 0);
});

t.test('shareLocation = false reads a box per class', async (t) => {
  // nBoxes × numClasses × 4
  const boxes = f32([0, 0, 0.2, 0.2, 0.5, 0.5, 0.9, 0.9]);
  const r = batchedNms(boxes, f32([0.9, 0.8]), 1, { ...base, shareLocation: false });
  t.equal(r.count, 2);
  t.same(round(r.boxes.subarray(0, 8)), [0, 0, 0.2, 0.2, 0.5, 0.5, 0.9, 0.9]);
});
