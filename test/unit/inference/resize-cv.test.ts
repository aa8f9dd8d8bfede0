import t from 'tap';
import { resizeLinearCv } from '../../../agent/src/inference/resize-cv.js';
import { placeImage } from '../../../agent/src/inference/letterbox.js';
import { writeTensor } from '../../../agent/src/inference/tensor.js';

// Hand-computed with OpenCV's INTER_LINEAR arithmetic (docs/reference/model-families.md "OpenCV
// INTER_LINEAR"): source x = (d + 0.5)·scale − 0.5 clamped to the edges, 11-bit weights, the two
// passes rounded together ((v + 2^21) >> 22).

t.test('2× downscale in x only: each output blends two source pixels half and half, rounded up at .5', async (t) => {
  // d=0: x=0.5 → (10+20)/2 = 15; d=1: x=2.5 → (30+41)/2 = 35.5 → 36. Height 1 → 1 (not INTER_AREA).
  t.same(Array.from(resizeLinearCv(Uint8Array.from([10, 20, 30, 41]), 4, 1, 1, 2, 1)), [15, 36]);
});

t.test('upscale: half-pixel centres give 0, 25, 75, 100 (no antialiasing, edges clamped)', async (t) => {
  // scale 0.5: x = −0.25 (clamped → 0), 0.25, 0.75, 1.25 (clamped → 1).
  t.same(Array.from(resizeLinearCv(Uint8Array.from([0, 100]), 2, 1, 1, 4, 1)), [0, 25, 75, 100]);
  // Three channels interleaved (HWC) are resized independently.
  t.same(Array.from(resizeLinearCv(Uint8Array.from([0, 200, 9, 100, 0, 9]), 2, 1, 3, 4, 1)), [0, 200, 9, 25, 150, 9, 75, 50, 9, 100, 0, 9]);
});

t.test('an exact 2× reduction in both axes is the rounded mean of each 2×2 block (INTER_AREA)', async (t) => {
  // (1 + 2 + 3 + 5) / 4 = 2.75 → 3; (0 + 0 + 0 + 2) / 4 = 0.5 → 1.
  t.same(Array.from(resizeLinearCv(Uint8Array.from([1, 2, 0, 0, 3, 5, 0, 2]), 4, 2, 1, 2, 1)), [3, 1]);
});

t.test('YOLOX sizing floors the resized size, Ultralytics/TAO round it', async (t) => {
  // 640×427 into 416: r = 0.65, 427·0.65 = 277.55 → 277 (YOLOX int()) vs 278 (round).
  t.equal(placeImage(640, 427, 416, 416, 'letterbox-topleft', 'floor').height, 277);
  t.equal(placeImage(640, 427, 416, 416, 'letterbox-topleft').height, 278);
});

t.test('tensor: the pad pixel value and the per-channel std are applied', async (t) => {
  // A 1×1 image top-left in a 2×1 input; pad 114, mean 10, std 2 → image (30 − 10)/2 = 10, pad (114 − 10)/2 = 52.
  const p = placeImage(1, 1, 2, 1, 'letterbox-topleft');
  const out = new Float32Array(6).fill(-1);
  writeTensor(Uint8Array.from([30, 30, 30]), 3, p, { channels: 3, colorOrder: 'rgb', mean: [10, 10, 10], std: [2, 2, 2], scale: 1, pad: 114 }, out);
  t.same(Array.from(out), [10, 52, 10, 52, 10, 52]);
  // Without pad the padding is 0 after normalisation (the mean colour), as TAO pads.
  writeTensor(Uint8Array.from([30, 30, 30]), 3, p, { channels: 3, colorOrder: 'rgb', mean: [10, 10, 10], scale: 1 }, out);
  t.same(Array.from(out), [20, 0, 20, 0, 20, 0]);
});
