import type { Placement } from './letterbox.js';

/**
 * HWC uint8 pixels (sharp `.raw()`) → NCHW float32 in one pass (docs/reference/serving-runtime.md "Input tensor"): three write
 * cursors, one per plane, `y = (x − mean_c) · scale`. Pure; no allocation in the loop.
 */
export interface TensorSpec {
  readonly channels: 1 | 3;
  /** Channel order of the tensor: bgr (TAO YOLOv3, docs/reference/yolov3-io.md "Preprocessing"), rgb, or gray. */
  readonly colorOrder: 'bgr' | 'rgb' | 'gray';
  /** Per-channel mean in tensor channel order (B, G, R for bgr). */
  readonly mean: readonly number[];
  readonly scale: number;
  /** Per-channel divisor after the mean (DETR's ImageNet std); absent = 1. */
  readonly std?: readonly number[];
  /** Letterbox pad as a pixel value before normalisation (Ultralytics/YOLOX 114); absent = the mean, i.e. 0. */
  readonly pad?: number;
}

/**
 * Writes one image into `out` at `offset` (n·C·H·W for batch item n). `pixels` holds the
 * resized image (placement.width × placement.height × srcChannels, RGB or gray); padding is
 * written as 0 after normalisation, i.e. the dataset mean colour (docs/reference/serving-runtime.md "Input tensor").
 * Every value of the item is written (image or padding), so `out` may be a reused tensor.
 */
export function writeTensor(
  pixels: Uint8Array,
  srcChannels: 1 | 3,
  p: Placement,
  spec: TensorSpec,
  out: Float32Array,
  offset = 0,
): void {
  const W = p.netWidth;
  const H = p.netHeight;
  const plane = W * H;
  const C = spec.channels;
  const w = p.width;
  const h = p.height;
  // y = (x − mean_c) · s_c with s_c = scale / std_c.
  const sd = (c: number): number => spec.std?.[c] ?? spec.std?.[0] ?? 1;
  const m0 = spec.mean[0] ?? 0;
  const m1 = spec.mean[1] ?? m0;
  const m2 = spec.mean[2] ?? m0;
  const s0 = spec.scale / sd(0);
  const s1 = spec.scale / sd(1);
  const s2 = spec.scale / sd(2);
  const means = [m0, m1, m2];
  const scales = [s0, s1, s2];
  // Only the padding is written (none when the image fills the input, e.g. 1248×384 → 384×1248).
  for (let c = 0; c < C; c++) {
    const base = offset + c * plane;
    const v = spec.pad === undefined ? 0 : (spec.pad - means[c]!) * scales[c]!;
    out.fill(v, base, base + p.top * W);
    out.fill(v, base + (p.top + h) * W, base + plane);
    if (p.left > 0 || p.left + w < W) {
      for (let y = p.top; y < p.top + h; y++) {
        out.fill(v, base + y * W, base + y * W + p.left);
        out.fill(v, base + y * W + p.left + w, base + (y + 1) * W);
      }
    }
  }
  if (C === 1) {
    const s = s0;
    for (let y = 0; y < h; y++) {
      let o = offset + (y + p.top) * W + p.left;
      let i = y * w * srcChannels;
      if (srcChannels === 1) {
        for (let x = 0; x < w; x++) out[o++] = (pixels[i++]! - m0) * s;
      } else {
        // ITU-R BT.601 luma, as libvips' b-w conversion.
        for (let x = 0; x < w; x++, i += 3) out[o++] = (0.299 * pixels[i]! + 0.587 * pixels[i + 1]! + 0.114 * pixels[i + 2]! - m0) * s;
      }
    }
    return;
  }
  const bgr = spec.colorOrder === 'bgr';
  // Source channel feeding tensor plane 0 and 2: R,G,B → B,G,R swaps 0 and 2.
  const c0 = bgr ? 2 : 0;
  const c2 = bgr ? 0 : 2;
  for (let y = 0; y < h; y++) {
    let o = offset + (y + p.top) * W + p.left;
    let i = y * w * srcChannels;
    if (srcChannels === 1) {
      for (let x = 0; x < w; x++, o++) {
        const v = pixels[i++]!;
        out[o] = (v - m0) * s0;
        out[o + plane] = (v - m1) * s1;
        out[o + 2 * plane] = (v - m2) * s2;
      }
    } else {
      for (let x = 0; x < w; x++, o++, i += 3) {
        out[o] = (pixels[i + c0]! - m0) * s0;
        out[o + plane] = (pixels[i + 1]! - m1) * s1;
        out[o + 2 * plane] = (pixels[i + c2]! - m2) * s2;
      }
    }
  }
}
