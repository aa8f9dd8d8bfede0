import t from 'tap';
import sharp from 'sharp';
import { placeImage, toImageBox, toNetworkBox, clipToImage, type Placement, type ResizeMode } from '../../../agent/src/inference/letterbox.js';
import { writeTensor, type TensorSpec } from '../../../agent/src/inference/tensor.js';
import { decodeImage } from '../../../agent/src/inference/preprocess.js';

/** The straightforward reference: per output element, find its source pixel. */
function referenceTensor(pixels: Uint8Array, srcCh: 1 | 3, p: Placement, spec: TensorSpec): Float32Array {
  const out = new Float32Array(spec.channels * p.netWidth * p.netHeight);
  for (let c = 0; c < spec.channels; c++) {
    for (let y = 0; y < p.netHeight; y++) {
      for (let x = 0; x < p.netWidth; x++) {
        const ix = x - p.left;
        const iy = y - p.top;
        let v = 0;
        if (ix >= 0 && iy >= 0 && ix < p.width && iy < p.height) {
          const base = (iy * p.width + ix) * srcCh;
          let px: number;
          if (srcCh === 1) px = pixels[base]!;
          else if (spec.channels === 1) px = 0.299 * pixels[base]! + 0.587 * pixels[base + 1]! + 0.114 * pixels[base + 2]!;
          else {
            const rgb = [pixels[base]!, pixels[base + 1]!, pixels[base + 2]!];
            px = spec.colorOrder === 'bgr' ? rgb[2 - c]! : rgb[c]!;
          }
          v = (px - (spec.mean[c] ?? spec.mean[0]!)) * spec.scale;
        }
        out[(c * p.netHeight + y) * p.netWidth + x] = v;
      }
    }
  }
  return out;
}

function randomPixels(n: number, seed: number): Uint8Array {
  let s = seed;
  return new Uint8Array(n).map(() => ((s = (s * 1103515245 + 12345) >>> 0), s >>> 24));
}

const TAO_BGR: TensorSpec = { channels: 3, colorOrder: 'bgr', mean: [103.939, 116.779, 123.68], scale: 1 };
const specs: [string, TensorSpec, 1 | 3][] = [
  ['TAO BGR, mean only', TAO_BGR, 3],
  ['RGB /255 style', { channels: 3, colorOrder: 'rgb', mean: [127.5, 127.5, 127.5], scale: 1 / 127.5 }, 3],
  ['gray model from gray pixels', { channels: 1, colorOrder: 'gray', mean: [117.3786], scale: 1 }, 1],
  ['gray model from RGB pixels', { channels: 1, colorOrder: 'gray', mean: [117.3786], scale: 1 }, 3],
];
const modes: ResizeMode[] = ['letterbox-center', 'letterbox-topleft', 'stretch'];

// Wide sources pad top/bottom, tall ones left/right; the dirty (NaN) buffer stands for a pooled
// tensor that still holds the previous request: every value must be rewritten.
for (const [name, spec, srcCh] of specs) {
  for (const mode of modes) for (const [sw, sh] of [[50, 30], [30, 50]] as const) {
    t.test(`tensor matches the reference element-wise: ${name}, ${mode}, ${sw}×${sh}`, async (t) => {
      const p = placeImage(sw, sh, 32, 24, mode);
      const pixels = randomPixels(p.width * p.height * srcCh, 7);
      const ref = referenceTensor(pixels, srcCh, p, spec);
      // Batch item 1 of 2 in a dirty buffer: offset and padding must both be right.
      const out = new Float32Array(2 * ref.length).fill(NaN);
      writeTensor(pixels, srcCh, p, spec, out, ref.length);
      let maxDiff = 0;
      for (let i = 0; i < ref.length; i++) maxDiff = Math.max(maxDiff, Math.abs(out[ref.length + i]! - ref[i]!));
      t.ok(maxDiff < 1e-4, `max |diff| ${maxDiff}`);
      t.ok(Number.isNaN(out[0]), 'batch item 0 untouched');
    });
  }
}

t.test('TAO BGR: a pure red pixel becomes B−103.939, G−116.779, R−123.68 in planes 0,1,2', async (t) => {
  const p = placeImage(1, 1, 1, 1, 'stretch');
  const out = new Float32Array(3);
  writeTensor(new Uint8Array([255, 0, 0]), 3, p, TAO_BGR, out);
  t.same(Array.from(out).map((v) => Math.round(v * 1000) / 1000), [-103.939, -116.779, 131.32]);
});

t.test('letterbox placement follows TAO (centred) and DeepStream (top-left)', async (t) => {
  // 1920×1080 into 1248×384: r = min(1248/1920, 384/1080) = 0.3556, 683×384, left = (1248−683)>>1 = 282.
  const c = placeImage(1920, 1080, 1248, 384, 'letterbox-center');
  t.match(c, { width: 683, height: 384, left: 282, top: 0 });
  const tl = placeImage(1920, 1080, 1248, 384, 'letterbox-topleft');
  t.match(tl, { width: 683, height: 384, left: 0, top: 0 });
  const tall = placeImage(300, 1000, 640, 640, 'letterbox-center');
  t.match(tall, { width: 192, height: 640, left: 224, top: 0 });
  const s = placeImage(640, 480, 1248, 384, 'stretch');
  t.match(s, { width: 1248, height: 384, left: 0, top: 0 });
});

for (const [w, h] of [
  [1920, 1080],
  [1248, 384],
  [300, 1000],
  [640, 640],
  [33, 777],
] as const) {
  for (const mode of modes) {
    t.test(`box round trip ${w}×${h} into 1248×384, ${mode}`, async (t) => {
      const p = placeImage(w, h, 1248, 384, mode);
      const box = { x1: w * 0.1, y1: h * 0.2, x2: w * 0.6, y2: h * 0.9 };
      const n = toNetworkBox(box, p);
      // The box sits inside the image area of the network input, never in the padding.
      t.ok(n.x1 >= p.left / 1248 - 1e-9 && n.x2 <= (p.left + p.width) / 1248 + 1e-9, 'x inside the image area');
      t.ok(n.y1 >= p.top / 384 - 1e-9 && n.y2 <= (p.top + p.height) / 384 + 1e-9, 'y inside the image area');
      const back = toImageBox(n, p);
      for (const k of ['x1', 'y1', 'x2', 'y2'] as const) t.ok(Math.abs(back[k] - box[k]) < 1e-6, `${k} ${back[k]} ≈ ${box[k]}`);
    });
  }
}

t.test('centred letterbox: the padding maps outside the image and is clipped away', async (t) => {
  const p = placeImage(1920, 1080, 1248, 384, 'letterbox-center');
  // Normalised box over the whole network input, padding included.
  const img = toImageBox({ x1: 0, y1: 0, x2: 1, y2: 1 }, p);
  t.ok(img.x1 < 0 && img.x2 > 1920, 'padding lies outside the original image');
  t.same(clipToImage(img, 1920, 1080), { x1: 0, y1: 0, x2: 1919, y2: 1079 });
  t.equal(clipToImage({ x1: -50, y1: 10, x2: -10, y2: 20 }, 100, 100), null, 'a box wholly in the padding disappears');
});

t.test('sharp decode honours EXIF orientation', async (t) => {
  // 40×20, left half red, right half blue; orientation 6 = rotate 90° clockwise to display.
  const raw = Buffer.alloc(40 * 20 * 3);
  for (let y = 0; y < 20; y++) for (let x = 0; x < 40; x++) raw.set(x < 20 ? [255, 0, 0] : [0, 0, 255], (y * 40 + x) * 3);
  const jpeg = await sharp(raw, { raw: { width: 40, height: 20, channels: 3 } }).jpeg({ quality: 95 }).withMetadata({ orientation: 6 }).toBuffer();
  const d = await decodeImage(jpeg, { netWidth: 20, netHeight: 40, resize: 'stretch', gray: false, maxPixels: 1e6 });
  t.equal(d.placement.srcWidth, 20, 'displayed width');
  t.equal(d.placement.srcHeight, 40, 'displayed height');
  const at = (x: number, y: number): number[] => Array.from(d.pixels.subarray((y * 20 + x) * 3, (y * 20 + x) * 3 + 3));
  t.ok(at(10, 5)[0]! > 200 && at(10, 5)[2]! < 60, 'top is red (the former left half)');
  t.ok(at(10, 35)[2]! > 200 && at(10, 35)[0]! < 60, 'bottom is blue');
});

t.test('sharp decode: PNG with alpha, gray model, letterbox size', async (t) => {
  const png = await sharp({ create: { width: 200, height: 100, channels: 4, background: { r: 10, g: 20, b: 30, alpha: 0.5 } } }).png().toBuffer();
  const d = await decodeImage(png, { netWidth: 64, netHeight: 64, resize: 'letterbox-center', gray: false, maxPixels: 1e6 });
  t.equal(d.channels, 3);
  t.match(d.placement, { width: 64, height: 32, left: 0, top: 16 });
  t.equal(d.pixels.length, 64 * 32 * 3);
  const g = await decodeImage(png, { netWidth: 64, netHeight: 64, resize: 'letterbox-center', gray: true, maxPixels: 1e6 });
  t.equal(g.channels, 1);
  t.equal(g.pixels.length, 64 * 32);
});

t.test('decode errors are coded', async (t) => {
  const opts = { netWidth: 32, netHeight: 32, resize: 'stretch' as const, gray: false, maxPixels: 10_000 };
  await t.rejects(decodeImage(new Uint8Array(0), opts), { code: 'IMAGE_UNDECODABLE' });
  await t.rejects(decodeImage(Buffer.from('not an image at all'), opts), { code: 'IMAGE_UNDECODABLE' });
  const jpeg = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#808080' } }).jpeg().toBuffer();
  await t.rejects(decodeImage(jpeg.subarray(0, Math.floor(jpeg.length / 2)), opts), { code: 'IMAGE_UNDECODABLE' });
  const big = await sharp({ create: { width: 200, height: 100, channels: 3, background: '#000' } }).png().toBuffer();
  await t.rejects(decodeImage(big, opts), { code: 'IMAGE_TOO_LARGE' });
});
