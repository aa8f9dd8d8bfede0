import t from 'tap';
import { computeAp, integratedAp, iou, sampledAp, type ApOptions, type GroundTruth, type ImageResult, type Prediction } from '../../../agent/src/eval/ap.js';
import { toGroundTruth, newStats } from '../../../agent/src/eval/ground-truth.js';
import { parseKittiLabels } from '../../../agent/src/dataset/kitti-label.js';
import { placeImage } from '../../../agent/src/inference/letterbox.js';

// Every expected value below is worked out by hand in the comment above it (docs/models.md,
// "Evaluation: the exact rules").
const box = (x1: number, y1: number, x2: number, y2: number) => ({ x1, y1, x2, y2 });
const gt = (x1: number, y1: number, x2: number, y2: number, difficult = false, classId = 0): GroundTruth => ({ classId, difficult, box: box(x1, y1, x2, y2) });
const pred = (score: number, x1: number, y1: number, x2: number, y2: number, classId = 0): Prediction => ({ classId, score, box: box(x1, y1, x2, y2) });
const opts = (mode: 'sample' | 'integrate', extra: Partial<ApOptions> = {}): ApOptions => ({ classes: ['a', 'b'], mode, iouThreshold: 0.5, confidenceThreshold: 0, ...extra });
const close = (t: { ok(v: boolean, m: string): unknown }, got: number, want: number, msg: string) => t.ok(Math.abs(got - want) < 1e-12, `${msg}: ${got} ≈ ${want}`);

t.test('IoU is continuous (no +1 pixel) and ≥ threshold matches', async (t) => {
  close(t, iou(box(0, 0, 10, 10), box(5, 0, 15, 10)), 50 / 150, 'half-overlapping boxes');
  t.equal(iou(box(0, 0, 10, 10), box(10, 0, 20, 10)), 0, 'touching boxes do not overlap');
  // IoU exactly 0.5: (0,0,10,10) vs (0,0,10,20): 100 / 200. VOC's voc_eval would need > 0.5.
  const r = computeAp([{ gt: [gt(0, 0, 10, 20)], preds: [pred(0.9, 0, 0, 10, 10)] }], opts('sample'));
  t.equal(r.classes[0]!.tp, 1, 'IoU == threshold is a match');
});

t.test('TP, FP, TP: both modes', async (t) => {
  // Sorted: TP(.9) p=1 r=.5; FP(.8) p=.5 r=.5; TP(.7) p=2/3 r=1.
  // SAMPLE: t ≤ .5 (6 samples) → 1; t ≥ .6 (5 samples) → 2/3 → (6 + 10/3) / 11 = 28/33.
  // INTEGRATE: .5·1 + .5·(2/3) = 5/6.
  const img: ImageResult = { gt: [gt(0, 0, 10, 10), gt(20, 0, 30, 10)], preds: [pred(0.9, 0, 0, 10, 10), pred(0.8, 50, 50, 60, 60), pred(0.7, 20, 0, 30, 10)] };
  const s = computeAp([img], opts('sample'));
  close(t, s.classes[0]!.ap, 28 / 33, 'sample AP');
  close(t, s.classes[0]!.precision, 2 / 3, 'precision');
  t.equal(s.classes[0]!.recall, 1);
  t.equal(s.classes[1]!.ap, 0, 'class b: no ground truth, no detections');
  close(t, s.map, 28 / 33 / 2, 'mAP averages over every class (TAO)');
  close(t, s.mapWithGroundTruth!, 28 / 33, 'mAP over classes with ground truth');
  close(t, computeAp([img], opts('integrate')).classes[0]!.ap, 5 / 6, 'integrate AP');
});

t.test('duplicates: a second detection takes the next unmatched box, or is a false positive', async (t) => {
  // Same box twice on one GT: TP then FP → p [1, .5], r [1, 1] → AP 1, precision .5.
  const dup = computeAp([{ gt: [gt(0, 0, 10, 10)], preds: [pred(0.9, 0, 0, 10, 10), pred(0.8, 0, 0, 10, 10)] }], opts('sample'));
  close(t, dup.classes[0]!.ap, 1, 'AP (eleven 1/11 summed, as TAO sums them: 1.0000000000000002)');
  t.equal(dup.classes[0]!.fp, 1);
  t.equal(dup.classes[0]!.precision, 0.5);
  // Two overlapping GTs (IoU 100/120): the duplicate's best box is taken, so it matches the other
  // (TAO looks at unmatched boxes only; voc_eval would call it a duplicate). 2 TP → AP 1, recall 1.
  const next = computeAp([{ gt: [gt(0, 0, 10, 10), gt(0, 0, 10, 12)], preds: [pred(0.9, 0, 0, 10, 10), pred(0.8, 0, 0, 10, 10)] }], opts('integrate'));
  t.equal(next.classes[0]!.tp, 2);
  t.equal(next.classes[0]!.recall, 1);
});

t.test('ties keep image order, then detection order', async (t) => {
  // Equal scores .5: image 1's TP before image 2's FP → p [1, .5], r [1, 1] → AP 1.
  // The other image order: FP first → p [0, .5], r [0, 1] → every sample .5 → AP .5 (integrate: 1·.5).
  const hit: ImageResult = { gt: [gt(0, 0, 10, 10)], preds: [pred(0.5, 0, 0, 10, 10)] };
  const miss: ImageResult = { gt: [], preds: [pred(0.5, 0, 0, 10, 10)] };
  for (const mode of ['sample', 'integrate'] as const) {
    close(t, computeAp([hit, miss], opts(mode)).classes[0]!.ap, 1, `${mode}: TP first`);
    close(t, computeAp([miss, hit], opts(mode)).classes[0]!.ap, 0.5, `${mode}: FP first`);
  }
  // Within one image, equal scores keep the detector's order: the first takes the box.
  const within = computeAp([{ gt: [gt(0, 0, 10, 10)], preds: [pred(0.5, 40, 40, 50, 50), pred(0.5, 0, 0, 10, 10)] }], opts('sample'));
  close(t, within.classes[0]!.ap, 0.5, 'FP listed first stays first');
});

t.test('no detections and no ground truth', async (t) => {
  const none = computeAp([{ gt: [gt(0, 0, 10, 10), gt(20, 0, 30, 10)], preds: [] }], opts('sample'));
  t.same([none.classes[0]!.ap, none.classes[0]!.precision, none.classes[0]!.recall, none.classes[0]!.groundTruth], [0, 0, 0, 2]);
  const noGt = computeAp([{ gt: [gt(0, 0, 10, 10)], preds: [pred(0.9, 0, 0, 10, 10), pred(0.9, 0, 0, 10, 10, 1)] }], opts('integrate'));
  t.equal(noGt.classes[1]!.ap, 0, 'class b has no GT: its detection is a false positive, AP 0');
  t.equal(noGt.classes[1]!.fp, 1);
  t.equal(noGt.map, 0.5, 'TAO averages it in as 0');
  t.equal(noGt.mapWithGroundTruth, 1);
  t.equal(computeAp([], opts('sample')).mapWithGroundTruth, null);
});

t.test('difficult boxes: a match is ignored, the box is no miss, a second match is a false positive', async (t) => {
  // .9 on the difficult box (ignored), .8 on the normal one → p [1], r [1] → AP 1; 1 GT counts.
  const a = computeAp([{ gt: [gt(0, 0, 10, 10), gt(20, 0, 30, 10, true)], preds: [pred(0.9, 20, 0, 30, 10), pred(0.8, 0, 0, 10, 10)] }], opts('sample'));
  close(t, a.classes[0]!.ap, 1, 'AP');
  t.same([a.classes[0]!.groundTruth, a.classes[0]!.difficult, a.classes[0]!.ignored], [1, 1, 1]);
  // .9 and .8 on the difficult box: the first consumes it (TAO), the second is an FP; then .7 TP.
  // Entries FP(.8), TP(.7) → p [0, .5], r [0, 1] → AP .5.
  const b = computeAp([{ gt: [gt(0, 0, 10, 10), gt(20, 0, 30, 10, true)], preds: [pred(0.9, 20, 0, 30, 10), pred(0.8, 20, 0, 30, 10), pred(0.7, 0, 0, 10, 10)] }], opts('sample'));
  close(t, b.classes[0]!.ap, 0.5, 'second detection on a difficult box');
});

t.test('a recall landing exactly on an 11-point sample compares as floats', async (t) => {
  // 10 GT; TP TP TP then FP: r [.1, .2, 3/10, 3/10], p [1, 1, 1, .75]. The 4th sample is
  // linspace's 0.30000000000000004 > 3/10 = 0.3: no recall reaches it → AP = 3/11, not 4/11.
  const gts = Array.from({ length: 10 }, (_, i) => gt(i * 20, 0, i * 20 + 10, 10));
  const preds = [pred(0.9, 0, 0, 10, 10), pred(0.8, 20, 0, 30, 10), pred(0.7, 40, 0, 50, 10), pred(0.6, 500, 500, 510, 510)];
  const r = computeAp([{ gt: gts, preds }], opts('sample'));
  close(t, r.classes[0]!.ap, 3 / 11, 'sample AP');
  t.equal(r.classes[0]!.recall, 0.3);
  close(t, sampledAp([0.30000000000000004], [1]), 4 / 11, 'a recall of exactly the sample float counts');
  close(t, sampledAp([0.5], [1]), 6 / 11, 'recall .5 reaches the .5 sample');
  close(t, integratedAp([0.1, 0.2, 0.3, 0.3], [1, 1, 1, 0.75]), 0.3, 'integrate: .3 · 1');
});

t.test('the confidence threshold drops detections at or below it', async (t) => {
  const r = computeAp([{ gt: [gt(0, 0, 10, 10)], preds: [pred(0.5, 0, 0, 10, 10)] }], opts('sample', { confidenceThreshold: 0.5 }));
  t.equal(r.classes[0]!.tp, 0, 'score == threshold is dropped (TAO keeps score > threshold)');
  t.equal(r.classes[0]!.ap, 0, 'and the box is a miss, even with a threshold of 0 elsewhere');
  const zero = computeAp([{ gt: [gt(0, 0, 10, 10), gt(20, 0, 30, 10)], preds: [pred(0.4, 0, 0, 10, 10)] }], opts('sample', { confidenceThreshold: 0 }));
  t.equal(zero.classes[0]!.recall, 0.5, 'threshold 0: the unmatched box stays a miss');
});

t.test('DontCare and unmapped types are dropped: a detection on them is a false positive', async (t) => {
  const labels = parseKittiLabels(
    ['Car 0.00 0 0 0 0 10 10 0 0 0 0 0 0 0', 'DontCare -1 -1 -10 50 50 60 60 -1 -1 -1 -1000 -1000 -1000 -10', 'Tram 0.00 0 0 20 20 30 30 0 0 0 0 0 0 0', 'VAN 0.00 2 0 70 0 80 10 0 0 0 0 0 0 0'].join('\n'),
  );
  t.same(labels.problems, []);
  const mapping = { map: new Map([['car', 'car'], ['van', 'car']]), classes: ['car'] };
  const stats = newStats();
  const g = toGroundTruth(labels.objects, mapping, placeImage(100, 100, 100, 100, 'letterbox-center'), stats);
  t.equal(g.length, 2, 'Car and VAN (upper case mapped as TAO lower-cases) count');
  t.same(g.map((x) => x.difficult), [false, true], 'occluded 2 is difficult (TAO: occluded ≠ 0)');
  t.equal(stats.dontCare, 1);
  t.same([...stats.unmapped], [['tram', 1]]);
  // .95 on the DontCare region (FP), .9 on the car → p [0, .5], r [0, 1] → AP .5 in both modes.
  const r = computeAp([{ gt: g, preds: [pred(0.95, 50, 50, 60, 60), pred(0.9, 0, 0, 10, 10)] }], { ...opts('sample'), classes: ['car'] });
  close(t, r.classes[0]!.ap, 0.5, 'sample');
  close(t, computeAp([{ gt: g, preds: [pred(0.95, 50, 50, 60, 60), pred(0.9, 0, 0, 10, 10)] }], { ...opts('integrate'), classes: ['car'] }).classes[0]!.ap, 0.5, 'integrate');
});

t.test('ground truth is clipped to the network input and degenerate boxes are dropped', async (t) => {
  const labels = parseKittiLabels(['car 0 0 0 -5 0 10 10 0 0 0 0 0 0 0', 'car 0 0 0 40 40 40.05 60 0 0 0 0 0 0 0'].join('\n'));
  const stats = newStats();
  const g = toGroundTruth(labels.objects, { map: new Map([['car', 'car']]), classes: ['car'] }, placeImage(100, 100, 100, 100, 'stretch'), stats);
  t.equal(g.length, 1);
  t.equal(g[0]!.box.x1, 0, 'clipped at the left edge');
  t.equal(stats.tiny, 1, 'a box 0.05 px wide in a 100 px input is ≤ 1e-3 normalised');
});
