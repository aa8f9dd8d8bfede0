import type { default as Sharp, Metadata } from 'sharp';
import { AgentError } from '../core/errors.js';
import { placeImage, type Placement, type ResizeMode } from './letterbox.js';
import { resizeLinearCv } from './resize-cv.js';

/**
 * Image bytes → resized raw pixels with the placement the box mapping needs. sharp decodes
 * and resizes on the libuv pool (docs/reference/serving-runtime.md "sharp pipeline"), so the event loop stays free.
 */
export interface DecodedImage {
  readonly pixels: Uint8Array;
  readonly channels: 1 | 3;
  readonly placement: Placement;
}

export interface DecodeOptions {
  readonly netWidth: number;
  readonly netHeight: number;
  readonly resize: ResizeMode;
  readonly gray: boolean;
  readonly maxPixels: number;
  /** libvips-linear (default): sharp resizes; opencv-linear: sharp decodes, resize-cv.ts resizes as cv2 does. */
  readonly resample?: 'libvips-linear' | 'opencv-linear';
  readonly sizeRounding?: 'round' | 'floor';
}

// sharp (and libvips, ~7 MB RSS of shared library) is loaded with the first image: an idle
// agent without a model never decodes one (idle footprint, docs/benchmarks.md).
let loaded: Promise<typeof Sharp> | undefined;
function loadSharp(): Promise<typeof Sharp> {
  loaded ??= import('sharp').then((m) => {
    // sharp caches decoded inputs by default; a server sees unique images (docs/reference/serving-runtime.md "sharp pipeline").
    m.default.cache(false);
    return m.default;
  });
  return loaded;
}

export async function decodeImage(bytes: Uint8Array, opts: DecodeOptions): Promise<DecodedImage> {
  if (bytes.length === 0) throw new AgentError('IMAGE_UNDECODABLE', 'The request body is empty.', { hint: 'Send a JPEG or PNG image as the body.' });
  const sharp = await loadSharp();
  let meta: Metadata;
  try {
    meta = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch (err) {
    throw undecodable(err);
  }
  if (!meta.width || !meta.height || (meta.format !== 'jpeg' && meta.format !== 'png')) {
    throw new AgentError('IMAGE_UNDECODABLE', `The body is not a JPEG or PNG image (found ${meta.format ?? 'nothing'}).`, {
      hint: 'Send a JPEG or PNG image.',
    });
  }
  // Check the header's size before decoding anything: a small PNG can claim 100k × 100k pixels.
  if (meta.width * meta.height > opts.maxPixels) {
    throw new AgentError('IMAGE_TOO_LARGE', `The image is ${meta.width}×${meta.height} = ${meta.width * meta.height} pixels; the limit is ${opts.maxPixels}.`, {
      hint: 'Downscale the image or raise inference.maxPixels.',
    });
  }
  // EXIF orientations 5–8 swap width and height (sharp autoOrient, docs/reference/serving-runtime.md "sharp pipeline").
  const swap = (meta.orientation ?? 1) >= 5;
  const srcW = swap ? meta.height : meta.width;
  const srcH = swap ? meta.width : meta.height;
  const placement = placeImage(srcW, srcH, opts.netWidth, opts.netHeight, opts.resize, opts.sizeRounding);
  if (opts.resample === 'opencv-linear') return decodeThenResizeCv(sharp, bytes, opts, placement, srcW, srcH);
  try {
    let pipe = sharp(bytes, { limitInputPixels: opts.maxPixels, failOn: 'error', sequentialRead: true })
      .rotate()
      // `linear` is the kernel closest to cv2.INTER_LINEAR, which TAO uses (docs/reference/yolov3-io.md "Letterbox variants").
      .resize(placement.width, placement.height, { fit: 'fill', kernel: 'linear' })
      .removeAlpha();
    pipe = opts.gray ? pipe.toColourspace('b-w') : pipe.toColourspace('srgb');
    const { data, info } = await pipe.raw().toBuffer({ resolveWithObject: true });
    if (info.width !== placement.width || info.height !== placement.height || (info.channels !== 1 && info.channels !== 3)) {
      throw new Error(`unexpected decode result ${info.width}×${info.height}×${info.channels}`);
    }
    return { pixels: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), channels: info.channels, placement };
  } catch (err) {
    throw undecodable(err);
  }
}

/** Full-size decode by sharp (EXIF rotation, alpha dropped, sRGB or grey), then OpenCV's INTER_LINEAR. */
async function decodeThenResizeCv(sharp: typeof Sharp, bytes: Uint8Array, opts: DecodeOptions, placement: Placement, srcW: number, srcH: number): Promise<DecodedImage> {
  let raw: { data: Buffer; info: { width: number; height: number; channels: number } };
  try {
    let pipe = sharp(bytes, { limitInputPixels: opts.maxPixels, failOn: 'error', sequentialRead: true }).rotate().removeAlpha();
    pipe = opts.gray ? pipe.toColourspace('b-w') : pipe.toColourspace('srgb');
    raw = await pipe.raw().toBuffer({ resolveWithObject: true });
  } catch (err) {
    throw undecodable(err);
  }
  const { width, height, channels } = raw.info;
  if (width !== srcW || height !== srcH || (channels !== 1 && channels !== 3)) throw undecodable(new Error(`unexpected decode result ${width}×${height}×${channels}`));
  const src = new Uint8Array(raw.data.buffer, raw.data.byteOffset, raw.data.byteLength);
  const same = placement.width === width && placement.height === height;
  return { pixels: same ? src : resizeLinearCv(src, width, height, channels, placement.width, placement.height), channels, placement };
}

function undecodable(err: unknown): AgentError {
  const msg = err instanceof Error ? err.message : String(err);
  return new AgentError('IMAGE_UNDECODABLE', `The image could not be decoded: ${msg.split('\n')[0] ?? msg}.`, {
    cause: err,
    hint: 'Send a complete, valid JPEG or PNG image.',
  });
}
