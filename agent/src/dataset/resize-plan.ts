import { placeImage, type Placement } from '../inference/letterbox.js';

/**
 * The seed's "resize every image to the training size and scale its boxes" (docs/models.md
 * "Datasets"): where the image goes in the target canvas, and the label lines with their boxes
 * moved with it. Letterbox follows TAO's aug_letterbox_resize (ratio min(H/h, W/w), size
 * rounded, centred, the rest filled with the image's mean colour); stretch scales each axis.
 * Pure.
 */
export type ResizeMode = 'letterbox' | 'stretch';

export function planResize(srcWidth: number, srcHeight: number, width: number, height: number, mode: ResizeMode): Placement {
  return placeImage(srcWidth, srcHeight, width, height, mode === 'letterbox' ? 'letterbox-center' : 'stretch');
}

const fmt = (v: number): string => (Math.round(v * 100) / 100).toFixed(2);

/**
 * Rewrites the bbox fields (5–8) of every 15/16-field line; every other field and blank
 * lines stay as written. Lines that are not KITTI lines are returned unchanged: `dataset
 * check` reports them.
 */
export function scaleLabelText(text: string, p: Placement): string {
  return text
    .split('\n')
    .map((line) => {
      const f = line.trim().split(/\s+/);
      if (f.length !== 15 && f.length !== 16) return line;
      const n = f.slice(4, 8).map(Number);
      if (n.some((v) => !Number.isFinite(v))) return line;
      const [x1, y1, x2, y2] = n as [number, number, number, number];
      f[4] = fmt(x1 * p.scaleX + p.left);
      f[5] = fmt(y1 * p.scaleY + p.top);
      f[6] = fmt(x2 * p.scaleX + p.left);
      f[7] = fmt(y2 * p.scaleY + p.top);
      return f.join(' ');
    })
    .join('\n');
}
