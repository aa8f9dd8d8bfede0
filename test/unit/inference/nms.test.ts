import t from 'tap';
import { batchedNms, jaccardOverlap } from '../../../agent/src/inference/nms.js';
import type { NmsAttributes } from '../../../agent/src/core/contracts/model.js';

/**
 * Table tests of BatchedNMS in code against TensorRT OSS release/10.16's plugin kernels. Each
 * row names the kernel lines it mirrors (paths under https://github.com/NVIDIA/TensorRT/blob/
 * release/10.16/); the expected outputs are worked out by hand in the row's comment.
 * K1 plugin/common/kernels/sortScoresPerClass.cu, K2 plugin/common/kernels/allClassNMS.cu,
 * K3 plugin/common/kernels/sortScoresPerImage.cu, K4 plugin/batchedNMSPlugin/gatherNMSOutputs.cu.
 */

/** What TAO's YOLO exporters write (shareLocation 1, backgroundLabelId −1, clipBoxes 1, isNormalized 1; caffeSemantics left at the creator's default). */
const tao: NmsAttributes = {
  shareLocation: true,
  backgroundLabelId: -1,
  numClasses: 2,
  topK: 10,
  keepTopK: 5,
  scoreThreshold: 0.3,
  iouThreshold: 0.5,
  isNormalized: true,
  clipBoxes: true,
  caffeSemantics: true,
  scoreBits: 16,
};
const pixels: NmsAttributes = { ...tao, numClasses: 1, isNormalized: false, clipBoxes: false };

const f32 = (a: number[]): Float32Array => new Float32Array(a);
const round = (a: ArrayLike<number>): number[] => Array.from(a, (v) => Math.round(v * 1e4) / 1e4);

interface Row {
  readonly name: string;
  /** The kernel lines the row mirrors. */
  readonly kernel: string;
  readonly attrs: NmsAttributes;
  readonly boxes: number[];
  readonly scores: number[];
  readonly nBoxes: number;
  readonly count: number;
  readonly classes: number[];
  readonly outScores: number[];
  /** First `count` × 4 box values, when the row checks them. */
  readonly outBoxes?: number[];
}

const rows: Row[] = [
  {
    name: 'a score equal to the threshold is dropped (strict >)',
    kernel: 'K1 L94',
    attrs: { ...tao, numClasses: 1, scoreThreshold: 0.5 },
    // Two far-apart boxes scored 0.5 and 0.6: only 0.6 > 0.5.
    boxes: [0, 0, 0.1, 0.1, 0.5, 0.5, 0.6, 0.6],
    scores: [0.5, 0.6],
    nBoxes: 2,
    count: 1,
    classes: [0, -1, -1, -1, -1],
    outScores: [0.6, 0, 0, 0, 0],
  },
  {
    name: 'the threshold is a float32 attribute: a float32 score equal to it is dropped',
    kernel: 'K1 L94; batchedNMSPlugin.cpp L717-L725',
    // fround(0.3) = 0.30000001192…, greater than the double 0.3 but not than float(0.3).
    attrs: { ...tao, numClasses: 1, scoreThreshold: 0.3 },
    boxes: [0, 0, 0.1, 0.1],
    scores: [0.3],
    nBoxes: 1,
    count: 0,
    classes: [-1, -1, -1, -1, -1],
    outScores: [0, 0, 0, 0, 0],
  },
  {
    name: 'rows without a box carry class −1, score 0 and a zero box',
    kernel: 'K4 L70-L78',
    attrs: { ...tao, numClasses: 2, keepTopK: 3 },
    boxes: [0.1, 0.1, 0.4, 0.4],
    scores: [0.2, 0.9],
    nBoxes: 1,
    count: 1,
    classes: [1, -1, -1],
    outScores: [0.9, 0, 0],
    outBoxes: [0.1, 0.1, 0.4, 0.4],
  },
  {
    name: 'clipBoxes saturates to [0,1] even when isNormalized is 0',
    kernel: 'K4 L91-L98',
    attrs: { ...pixels, clipBoxes: true },
    // A pixel box: every coordinate is clamped into [0,1], as the plugin does.
    boxes: [-3, 0.25, 300, 40],
    scores: [0.9],
    nBoxes: 1,
    count: 1,
    classes: [0, -1, -1, -1, -1],
    outScores: [0.9, 0, 0, 0, 0],
    outBoxes: [0, 0.25, 1, 1],
  },
  {
    name: 'caffeSemantics 0 on pixel boxes: no +1 on the intersection, +1 on the areas',
    kernel: 'K2 L138-L142 (intersection), L43-L44 (areas)',
    attrs: { ...pixels, caffeSemantics: false, iouThreshold: 0.3 },
    // [0,0,9,9] vs [0,5,9,14]: intersection 9 × 4 = 36, areas 10 × 10 = 100 each:
    // IoU 36 / 164 = 0.2195 ≤ 0.3, both kept. (+1 on both sides would be 50 / 150 = 0.333.)
    boxes: [0, 0, 9, 9, 0, 5, 9, 14],
    scores: [0.9, 0.8],
    nBoxes: 2,
    count: 2,
    classes: [0, 0, -1, -1, -1],
    outScores: [0.9, 0.8, 0, 0, 0],
  },
  {
    name: 'caffeSemantics 1 on pixel boxes: +1 on the intersection and on the areas',
    kernel: 'K2 L143-L147, L43-L44',
    attrs: { ...pixels, caffeSemantics: true, iouThreshold: 0.3 },
    // Same boxes: (10 × 5) / (100 + 100 − 50) = 0.333 > 0.3, the second is suppressed.
    boxes: [0, 0, 9, 9, 0, 5, 9, 14],
    scores: [0.9, 0.8],
    nBoxes: 2,
    count: 1,
    classes: [0, -1, -1, -1, -1],
    outScores: [0.9, 0, 0, 0, 0],
  },
  {
    name: 'inverted corners are ordered before the IoU',
    kernel: 'K2 L100-L110, L130-L131',
    attrs: { ...tao, numClasses: 1 },
    // [0.5,0.5,0,0] is [0,0,0.5,0.5] written corner-swapped: IoU 1, suppressed. The kept row is the
    // first box as given.
    boxes: [0, 0, 0.5, 0.5, 0.5, 0.5, 0, 0],
    scores: [0.9, 0.8],
    nBoxes: 2,
    count: 1,
    classes: [0, -1, -1, -1, -1],
    outScores: [0.9, 0, 0, 0, 0],
    outBoxes: [0, 0, 0.5, 0.5],
  },
  {
    name: 'a sub-pixel gap is no overlap before the Caffe +1 (caffeSemantics 0: IoU 0)',
    kernel: 'K2 L55-L62, L138-L142',
    attrs: { ...pixels, caffeSemantics: false, iouThreshold: 0 },
    // [0,0,10,10] and [10.5,0,20.5,10] do not touch: intersection box zeroed, IoU 0, not > 0.
    // (Adding +1 to the raw gap would give 0.5 × 11 = 5.5 and suppress the second box.)
    boxes: [0, 0, 10, 10, 10.5, 0, 20.5, 10],
    scores: [0.9, 0.8],
    nBoxes: 2,
    count: 2,
    classes: [0, 0, -1, -1, -1],
    outScores: [0.9, 0.8, 0, 0, 0],
  },
  {
    name: 'a sub-pixel gap with caffeSemantics 1: the zeroed intersection counts 1 × 1',
    kernel: 'K2 L55-L62, L143-L147',
    attrs: { ...pixels, caffeSemantics: true, iouThreshold: 0.01 },
    // Same boxes: 1 / (121 + 121 − 1) = 0.00415 ≤ 0.01, kept. (Raw gap + 1: 5.5 / 236.5 = 0.0233.)
    boxes: [0, 0, 10, 10, 10.5, 0, 20.5, 10],
    scores: [0.9, 0.8],
    nBoxes: 2,
    count: 2,
    classes: [0, 0, -1, -1, -1],
    outScores: [0.9, 0.8, 0, 0, 0],
  },
  {
    name: 'the IoU is float32 and compared with a float32 threshold',
    kernel: 'K2 L148-L153, L265',
    attrs: { ...tao, numClasses: 1, iouThreshold: 0.6 },
    // [0,0,1,1] vs [0,0,1,0.6]: in float32 the IoU is fround(0.6) and fround(0.6) > fround(0.6)
    // is false, so both are kept (in doubles 0.6000000238 > 0.6 would suppress the second).
    boxes: [0, 0, 1, 1, 0, 0, 1, 0.6],
    scores: [0.9, 0.8],
    nBoxes: 2,
    count: 2,
    classes: [0, 0, -1, -1, -1],
    outScores: [0.9, 0.8, 0, 0, 0],
  },
  {
    name: 'keepTopK > topK: the plugin writes no row and counts none',
    kernel: 'K4 L59-L60, L124',
    attrs: { ...tao, numClasses: 1, topK: 2, keepTopK: 3 },
    boxes: [0, 0, 0.1, 0.1, 0.5, 0.5, 0.6, 0.6],
    scores: [0.9, 0.8],
    nBoxes: 2,
    count: 0,
    classes: [-1, -1, -1],
    outScores: [0, 0, 0],
  },
  {
    name: 'a negative threshold: cleared entries (score 0, index −1) sort among the candidates',
    kernel: 'K1 L117-L119, K2 L240-L247, K3 L46-L53, K4 L70-L78',
    attrs: { ...tao, numClasses: 1, scoreThreshold: -0.5, topK: 3, keepTopK: 3 },
    // Three identical boxes scored −0.9 (cleared: 0, −1), −0.2, −0.3. The class's sorted list
    // starts with the cleared entry, so the kernel has no reference box and suppresses nothing;
    // the per-image sort puts that entry's 0 first: rows [none, box 1 −0.2, box 2 −0.3], count 2.
    boxes: [0, 0, 0.5, 0.5, 0, 0, 0.5, 0.5, 0, 0, 0.5, 0.5],
    scores: [-0.9, -0.2, -0.3],
    nBoxes: 3,
    count: 2,
    classes: [-1, 0, 0],
    outScores: [0, -0.2, -0.3],
  },
];

for (const r of rows) {
  t.test(`${r.name} [${r.kernel}]`, async (t) => {
    const out = batchedNms(f32(r.boxes), f32(r.scores), r.nBoxes, r.attrs);
    t.equal(out.count, r.count, 'num_detections');
    t.same(Array.from(out.classes), r.classes, 'nmsed_classes');
    t.same(round(out.scores), round(r.outScores), 'nmsed_scores');
    if (r.outBoxes) t.same(round(out.boxes.subarray(0, r.outBoxes.length)), round(r.outBoxes), 'nmsed_boxes');
    t.equal(out.boxes.length, r.attrs.keepTopK * 4, 'outputs are sized keepTopK like the plugin');
  });
}

t.test('jaccardOverlap by hand [K2 L124-L159]', async (t) => {
  // Normalised: [0,0,2,2] vs [1,1,3,3]: intersection 1, union 4 + 4 − 1 = 7.
  t.equal(jaccardOverlap(f32([0, 0, 2, 2, 1, 1, 3, 3]), 0, 1, true, true), Math.fround(1 / 7));
  // Touching edges are not disjoint (K2 L55: strict >) but have zero width: IoU 0 …
  t.equal(jaccardOverlap(f32([0, 0, 1, 1, 1, 0, 2, 1]), 0, 1, true, true), 0);
  // … and on pixel boxes with caffeSemantics the +1 makes that 1 × 2 = 2 over 4 + 4 − 2.
  t.equal(jaccardOverlap(f32([0, 0, 1, 1, 1, 0, 2, 1]), 0, 1, false, true), Math.fround(2 / 6));
  // Disjoint pixel boxes with caffeSemantics: the zeroed intersection box counts 1 × 1 (K2 L58-L61, L145-L146).
  t.equal(jaccardOverlap(f32([0, 0, 3, 3, 10, 10, 13, 13]), 0, 1, false, true), Math.fround(1 / 31));
  t.equal(jaccardOverlap(f32([0, 0, 3, 3, 10, 10, 13, 13]), 0, 1, false, false), 0);
});

t.test('TAO attributes: per class greedy suppression, merge by score, keepTopK [K1, K2, K3, K4]', async (t) => {
  // Box 0 and 1: [0,0,.5,.5] vs [0,0,.5,.45] → 0.225 / 0.25 = 0.9. Box 2 is far away.
  // Box 3 overlaps box 0: 0.0625 / (0.25 + 0.25 − 0.0625) = 0.1428.
  const boxes = f32([0, 0, 0.5, 0.5, 0, 0, 0.5, 0.45, 0.6, 0.6, 0.9, 0.9, 0.25, 0.25, 0.75, 0.75]);
  const scores = f32([
    // class0, class1 per box
    0.9, 0.1,
    0.8, 0.7,
    0.2, 0.6,
    0.4, 0.3, // 0.3 is not > 0.3 (K1 L94)
  ]);
  const r = batchedNms(boxes, scores, 4, tao);
  // class 0: candidates 0 (0.9), 1 (0.8), 3 (0.4); 1 suppressed by 0 (IoU 0.9); keep 0, 3.
  // class 1: candidates 1 (0.7), 2 (0.6); disjoint, both kept.
  // merged by score: 0.9 c0 b0, 0.7 c1 b1, 0.6 c1 b2, 0.4 c0 b3; fifth row empty.
  t.equal(r.count, 4);
  t.same(round(r.scores), [0.9, 0.7, 0.6, 0.4, 0]);
  t.same(Array.from(r.classes), [0, 1, 1, 0, -1]);
  t.same(round(r.boxes.subarray(0, 8)), [0, 0, 0.5, 0.5, 0, 0, 0.5, 0.45]);
  t.same(round(r.boxes.subarray(8, 16)), [0.6, 0.6, 0.9, 0.9, 0.25, 0.25, 0.75, 0.75]);
  t.same(Array.from(r.boxes.subarray(16)), [0, 0, 0, 0]);
  const k3 = batchedNms(boxes, scores, 4, { ...tao, keepTopK: 3 });
  t.equal(k3.count, 3);
  t.equal(k3.scores.length, 3);
});

t.test('equal scores keep box order, then class order [K1 L183-L190, K3 L46-L53]', async (t) => {
  const boxes = f32([0, 0, 0.1, 0.1, 0.2, 0.2, 0.3, 0.3, 0.5, 0.5, 0.6, 0.6]);
  // Every (box, class) scores 0.5: per class, boxes 0, 1, 2; merged, class 0's before class 1's.
  const r = batchedNms(boxes, f32([0.5, 0.5, 0.5, 0.5, 0.5, 0.5]), 3, { ...tao, keepTopK: 6, topK: 6 });
  t.equal(r.count, 6);
  t.same(Array.from(r.classes), [0, 0, 0, 1, 1, 1]);
  t.same(round(r.boxes.subarray(0, 12)), [0, 0, 0.1, 0.1, 0.2, 0.2, 0.3, 0.3, 0.5, 0.5, 0.6, 0.6]);
});

t.test('topK limits candidates per class before suppression [K2 L185-L188]', async (t) => {
  const boxes = f32([0, 0, 0.1, 0.1, 0.2, 0.2, 0.3, 0.3, 0.4, 0.4, 0.5, 0.5]);
  const r = batchedNms(boxes, f32([0.9, 0.8, 0.7]), 3, { ...tao, numClasses: 1, topK: 2, keepTopK: 2 });
  t.equal(r.count, 2);
  t.same(round(r.scores), [0.9, 0.8]);
});

t.test('IoU exactly at the threshold is kept (suppression is IoU > threshold) [K2 L265]', async (t) => {
  // [0,0,1,1] vs [0,0,1,0.5]: IoU = 0.5 exactly in float32.
  const r = batchedNms(f32([0, 0, 1, 1, 0, 0, 1, 0.5]), f32([0.9, 0.8]), 2, { ...tao, numClasses: 1 });
  t.equal(r.count, 2);
});

t.test('clipBoxes 0 leaves boxes as they are [K4 L91-L98]', async (t) => {
  const out = batchedNms(f32([-0.2, 0.1, 1.3, 0.8]), f32([0.9]), 1, { ...tao, numClasses: 1, clipBoxes: false });
  t.same(round(out.boxes.subarray(0, 4)), [-0.2, 0.1, 1.3, 0.8]);
});

t.test('backgroundLabelId class is cleared; nothing above threshold gives count 0 [K1 L77-L90]', async (t) => {
  const boxes = f32([0, 0, 0.5, 0.5]);
  const r = batchedNms(boxes, f32([0.9, 0.8]), 1, { ...tao, backgroundLabelId: 0 });
  t.equal(r.count, 1);
  t.same(Array.from(r.classes.subarray(0, 2)), [1, -1]);
  t.equal(batchedNms(boxes, f32([0.1, 0.2]), 1, tao).count, 0);
});

t.test('shareLocation 0 reads a box per class [batchedNMSInference.cu L63-L69, K4 L81-L83]', async (t) => {
  // nBoxes × numClasses × 4
  const boxes = f32([0, 0, 0.2, 0.2, 0.5, 0.5, 0.9, 0.9]);
  const r = batchedNms(boxes, f32([0.9, 0.8]), 1, { ...tao, shareLocation: false });
  t.equal(r.count, 2);
  t.same(round(r.boxes.subarray(0, 8)), [0, 0, 0.2, 0.2, 0.5, 0.5, 0.9, 0.9]);
});
