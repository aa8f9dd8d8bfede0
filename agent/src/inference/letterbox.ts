/**
 * Fitting an image to the network input and mapping boxes back (docs/reference/yolov3-io.md "Letterbox variants" and "Box mapping").
 * Pure math, no I/O.
 */
export type ResizeMode = 'letterbox-center' | 'letterbox-topleft' | 'stretch';

export interface Placement {
  /** Original (EXIF-oriented) image size. */
  readonly srcWidth: number;
  readonly srcHeight: number;
  /** Network input size. */
  readonly netWidth: number;
  readonly netHeight: number;
  /** Size of the resized image inside the network input. */
  readonly width: number;
  readonly height: number;
  /** Where it sits (padding before it). */
  readonly left: number;
  readonly top: number;
  /** Network pixels per original pixel, per axis (equal for letterbox). */
  readonly scaleX: number;
  readonly scaleY: number;
}

/**
 * @param rounding  the resized size from ratio·size: `round` (TAO, Ultralytics LetterBox's
 *   int(round(·))) or `floor` (YOLOX preproc's int(·)).
 */
export function placeImage(srcWidth: number, srcHeight: number, netWidth: number, netHeight: number, mode: ResizeMode, rounding: 'round' | 'floor' = 'round'): Placement {
  if (mode === 'stretch') {
    return { srcWidth, srcHeight, netWidth, netHeight, width: netWidth, height: netHeight, left: 0, top: 0, scaleX: netWidth / srcWidth, scaleY: netHeight / srcHeight };
  }
  // TAO aug_letterbox_resize: ratio = min(H/h, W/w), new = round(ratio·size), shift = (N − new) // 2.
  const r = Math.min(netWidth / srcWidth, netHeight / srcHeight);
  const fit = rounding === 'floor' ? Math.floor : Math.round;
  const width = Math.max(1, Math.min(netWidth, fit(srcWidth * r)));
  const height = Math.max(1, Math.min(netHeight, fit(srcHeight * r)));
  const centred = mode === 'letterbox-center';
  return {
    srcWidth,
    srcHeight,
    netWidth,
    netHeight,
    width,
    height,
    left: centred ? (netWidth - width) >> 1 : 0,
    top: centred ? (netHeight - height) >> 1 : 0,
    // The effective scale is the one actually applied by the resize (rounded size / source size).
    scaleX: width / srcWidth,
    scaleY: height / srcHeight,
  };
}

export interface Box {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

/** Normalised network-input box (BatchedNMS output, isNormalized=1) → original-image pixels. */
export function toImageBox(b: Box, p: Placement, normalized = true): Box {
  const sx = normalized ? p.netWidth : 1;
  const sy = normalized ? p.netHeight : 1;
  return {
    x1: (b.x1 * sx - p.left) / p.scaleX,
    y1: (b.y1 * sy - p.top) / p.scaleY,
    x2: (b.x2 * sx - p.left) / p.scaleX,
    y2: (b.y2 * sy - p.top) / p.scaleY,
  };
}

/** Original-image pixels → normalised network-input box (the inverse of toImageBox). */
export function toNetworkBox(b: Box, p: Placement): Box {
  return {
    x1: (b.x1 * p.scaleX + p.left) / p.netWidth,
    y1: (b.y1 * p.scaleY + p.top) / p.netHeight,
    x2: (b.x2 * p.scaleX + p.left) / p.netWidth,
    y2: (b.y2 * p.scaleY + p.top) / p.netHeight,
  };
}

/** Clip to [0, w−1] × [0, h−1] (docs/reference/yolov3-io.md "Box mapping", as the DeepStream parser does); null when empty. */
export function clipToImage(b: Box, width: number, height: number): Box | null {
  const c = {
    x1: Math.min(Math.max(b.x1, 0), width - 1),
    y1: Math.min(Math.max(b.y1, 0), height - 1),
    x2: Math.min(Math.max(b.x2, 0), width - 1),
    y2: Math.min(Math.max(b.y2, 0), height - 1),
  };
  return c.x2 > c.x1 && c.y2 > c.y1 ? c : null;
}
