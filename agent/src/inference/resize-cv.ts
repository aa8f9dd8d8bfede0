/**
 * OpenCV's cv::resize(INTER_LINEAR) arithmetic for 8-bit images, in JS: what Ultralytics'
 * LetterBox and YOLOX's preproc call. libvips' linear reduce is antialiased (its kernel widens
 * with the shrink factor), OpenCV's is not: each output pixel blends the 2×2 source pixels
 * around its half-pixel-centred position, with 11-bit fixed-point weights
 * (opencv modules/imgproc/src/resize.cpp: INTER_RESIZE_COEF_BITS, HResizeLinear, VResizeLinear
 * with FixedPtCast<int, uchar, 22>), and an exact 2× reduction in both axes switches to
 * INTER_AREA (2×2 mean). The measured difference to cv2 4.6 is in docs/models.md "Resize". Pure.
 */
const COEF_BITS = 11;
const COEF_SCALE = 1 << COEF_BITS;

interface Axis {
  /** First source index per output index (times channels for x). */
  readonly ofs: Int32Array;
  /** Weight of ofs and of ofs + 1, 11-bit fixed point. */
  readonly a0: Int16Array;
  readonly a1: Int16Array;
}

const rint = (v: number): number => {
  const r = Math.round(v);
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
};

function axis(src: number, dst: number): Axis {
  const scale = src / dst;
  const ofs = new Int32Array(dst);
  const a0 = new Int16Array(dst);
  const a1 = new Int16Array(dst);
  for (let d = 0; d < dst; d++) {
    let f = Math.fround((d + 0.5) * scale - 0.5);
    let s = Math.floor(f);
    f = Math.fround(f - s);
    if (s < 0) {
      f = 0;
      s = 0;
    }
    if (s >= src - 1) {
      f = 0;
      s = src - 1;
    }
    ofs[d] = s;
    // saturate_cast<short>(cbuf[k] * INTER_RESIZE_COEF_SCALE): cvRound, to nearest, ties to even.
    a0[d] = rint(Math.fround(1 - f) * COEF_SCALE);
    a1[d] = rint(f * COEF_SCALE);
  }
  return { ofs, a0, a1 };
}

/** HWC uint8 (1 or 3 channels) → HWC uint8 of the new size. */
export function resizeLinearCv(src: Uint8Array, sw: number, sh: number, cn: number, dw: number, dh: number): Uint8Array {
  const out = new Uint8Array(dw * dh * cn);
  if (sw === dw * 2 && sh === dh * 2) return area2x(src, sw, cn, dw, dh, out);
  const X = axis(sw, dw);
  const Y = axis(sh, dh);
  // Horizontal pass per needed source row, cached for the two rows each output row reads.
  const rowW = dw * cn;
  let r0 = -1;
  let r1 = -1;
  let buf0 = new Int32Array(rowW);
  let buf1 = new Int32Array(rowW);
  const hrow = (y: number, into: Int32Array): void => {
    const base = y * sw * cn;
    for (let d = 0; d < dw; d++) {
      const sx = X.ofs[d]!;
      const w0 = X.a0[d]!;
      const w1 = X.a1[d]!;
      const i0 = base + sx * cn;
      const i1 = sx + 1 < sw ? i0 + cn : i0;
      for (let k = 0; k < cn; k++) into[d * cn + k] = src[i0 + k]! * w0 + src[i1 + k]! * w1;
    }
  };
  for (let y = 0; y < dh; y++) {
    const sy = Y.ofs[y]!;
    const sy1 = Math.min(sy + 1, sh - 1);
    if (sy === r1) {
      [buf0, buf1] = [buf1, buf0];
      r0 = sy;
      r1 = -1;
    }
    if (sy !== r0) {
      hrow(sy, buf0);
      r0 = sy;
    }
    if (sy1 !== r1) {
      hrow(sy1, buf1);
      r1 = sy1;
    }
    const b0 = Y.a0[y]!;
    const b1 = Y.a1[y]!;
    const o = y * rowW;
    for (let i = 0; i < rowW; i++) {
      // FixedPtCast<int, uchar, 22>: (v + 2^21) >> 22, saturated to 0..255.
      const v = (((b0 * (buf0[i]! >> 4)) >> 16) + ((b1 * (buf1[i]! >> 4)) >> 16) + 2) >> 2;
      out[o + i] = v < 0 ? 0 : v > 255 ? 255 : v;
    }
  }
  return out;
}

/** INTER_AREA for an exact 2× reduction: the rounded mean of each 2×2 block. */
function area2x(src: Uint8Array, sw: number, cn: number, dw: number, dh: number, out: Uint8Array): Uint8Array {
  for (let y = 0; y < dh; y++) {
    const r0 = 2 * y * sw * cn;
    const r1 = r0 + sw * cn;
    for (let x = 0; x < dw; x++) {
      for (let k = 0; k < cn; k++) {
        const i = 2 * x * cn + k;
        out[(y * dw + x) * cn + k] = (src[r0 + i]! + src[r0 + i + cn]! + src[r1 + i]! + src[r1 + i + cn]! + 2) >> 2;
      }
    }
  }
  return out;
}
