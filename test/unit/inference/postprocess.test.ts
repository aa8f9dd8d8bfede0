import t from 'tap';
import { toDetections } from '../../../agent/src/inference/postprocess.js';
import { placeImage } from '../../../agent/src/inference/letterbox.js';

const labels = ['car', 'cyclist', 'pedestrian'];
const opts = { labels, threshold: 0.3, maxDetections: 100, normalized: true };

t.test('BatchedNMS rows → labelled boxes in original pixels (centred letterbox)', async (t) => {
  // 1920×1080 → 1248×384: r = 384/1080, image 683 wide at left 282.
  const p = placeImage(1920, 1080, 1248, 384, 'letterbox-center');
  const x1n = (282 + 683 * 0.25) / 1248;
  const x2n = (282 + 683 * 0.5) / 1248;
  const out = {
    count: 3,
    boxes: new Float32Array([x1n, 0.1, x2n, 0.5, 0, 0, 0.1, 0.1, 0.5, 0.5, 0.6, 0.6, 9, 9, 9, 9]),
    scores: new Float32Array([0.9, 0.8, 0.2, 0.99]),
    classes: new Float32Array([2, 0, 1, 0]),
  };
  const d = toDetections(out, p, opts);
  t.equal(d.length, 1, 'row 1 lies in the left padding and is clipped away; row 2 is below threshold; row 3 is past count');
  t.equal(d[0]?.label, 'pedestrian');
  t.equal(d[0]?.classId, 2);
  t.ok(Math.abs(d[0]!.box.x1 - 1920 * 0.25) < 3, `x1 ${d[0]?.box.x1}`);
  t.ok(Math.abs(d[0]!.box.x2 - 1920 * 0.5) < 3, `x2 ${d[0]?.box.x2}`);
  t.ok(Math.abs(d[0]!.box.y1 - 108) < 1 && Math.abs(d[0]!.box.y2 - 540) < 1, 'y maps by the same ratio');
});

t.test('threshold, unknown class ids, inverted boxes and maxDetections', async (t) => {
  const p = placeImage(100, 100, 100, 100, 'stretch');
  const out = {
    count: 4,
    boxes: new Float32Array([0.1, 0.1, 0.2, 0.2, 0.3, 0.3, 0.2, 0.4, 0.1, 0.1, 0.5, 0.5, 0.6, 0.6, 0.7, 0.7]),
    scores: new Float32Array([0.9, 0.9, 0.9, 0.5]),
    classes: new Float32Array([0, 1, 7, 1]),
  };
  const d = toDetections(out, p, opts);
  t.same(d.map((x) => x.label), ['car', 'cyclist'], 'inverted box and class 7 are dropped');
  t.same(d[0]?.box, { x1: 10, y1: 10, x2: 20, y2: 20 });
  t.equal(toDetections(out, p, { ...opts, maxDetections: 1 }).length, 1);
  t.equal(toDetections(out, p, { ...opts, threshold: 0.6 }).length, 1);
});

t.test('a box past the right edge is clipped to width − 1', async (t) => {
  const p = placeImage(200, 100, 200, 100, 'letterbox-topleft');
  const d = toDetections({ count: 1, boxes: new Float32Array([0.5, 0.5, 1.2, 1.1]), scores: new Float32Array([0.5]), classes: new Float32Array([0]) }, p, opts);
  t.same(d[0]?.box, { x1: 100, y1: 50, x2: 199, y2: 99 });
});
