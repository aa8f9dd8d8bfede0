import path from 'node:path';
import { AgentError } from '../core/errors.js';
import { fsError, fsyncDir, freeBytes, mkdirp, readBytes, readText, statMaybe, writeFileAtomic } from '../platform/fs.js';
import { makeTempDir, removeTree, renamePath } from '../platform/fs-stream.js';
import type { ScanResult } from './check.js';
import { planResize, scaleLabelText, type ResizeMode } from './resize-plan.js';
import { loadSharp, mapLimit, type DatasetLayout } from './scan.js';

/**
 * `jetson-fleet dataset resize`: a copy of the set at one size, boxes scaled with the images.
 * Written into a temporary directory beside `out` and renamed into place at the end, so `out`
 * is either complete or absent; the source is only read.
 */
export interface ResizeOptions {
  readonly width: number;
  readonly height: number;
  readonly mode: ResizeMode;
  readonly out: string;
  readonly signal?: AbortSignal;
  readonly onProgress?: (done: number, total: number) => void;
}

export interface ResizeResult {
  readonly out: string;
  readonly images: number;
  readonly labels: number;
  readonly resized: number;
  readonly bytes: number;
}

const inside = (child: string, parent: string): boolean => {
  const r = path.relative(parent, child);
  return r === '' || (!r.startsWith('..') && !path.isAbsolute(r));
};

export async function resizeDataset(layout: DatasetLayout, scan: ScanResult, o: ResizeOptions): Promise<ResizeResult> {
  const out = path.resolve(o.out);
  const src = path.resolve(layout.root);
  if (inside(out, src) || inside(src, out)) {
    throw new AgentError('USAGE', `--out ${out} overlaps the dataset ${src}; the originals are never written.`, { hint: 'Choose an output directory outside the dataset.' });
  }
  if (await statMaybe(out)) throw new AgentError('USAGE', `--out ${out} already exists.`, { hint: 'Remove it or choose a new directory: the output is written whole or not at all.' });
  const bad = scan.images.filter((i) => i.error !== null || !i.width || !i.height);
  if (bad.length) {
    throw new AgentError('DATASET_IMAGE_CORRUPT', `${bad[0]!.file}: cannot be decoded (${bad[0]!.error ?? 'no size'})${bad.length > 1 ? ` (${bad.length - 1} more)` : ''}.`, {
      hint: 'Run `jetson-fleet dataset check` and replace the broken images first.',
    });
  }
  const parent = path.dirname(out);
  await mkdirp(parent);
  // Estimate: the target pixels at the source's bytes per pixel, but never below what a
  // photo costs (PNG ~0.5 B/px, JPEG at quality 95 ~0.1 B/px), plus the labels and 10 %:
  // flat test images compress far better than the photos a real set holds.
  let estimate = 0;
  for (const im of scan.images) {
    const size = (await statMaybe(path.join(layout.root, im.file)))?.size ?? 0;
    const bpp = Math.max(size / (im.width! * im.height!), im.format === 'png' ? 0.5 : 0.1);
    estimate += bpp * o.width * o.height;
  }
  for (const l of scan.labels) estimate += Buffer.byteLength(l.text);
  estimate = Math.ceil(estimate * 1.1);
  const { free } = await freeBytes(parent);
  if (estimate > free) {
    throw new AgentError('DATASET_TOO_LARGE', `The resized set needs about ${Math.ceil(estimate / 1e6)} MB; ${parent} has ${Math.floor(free / 1e6)} MB free.`, {
      hint: 'Free space there or pass an --out on a larger file system.',
      details: { estimateBytes: estimate, freeBytes: free },
    });
  }
  const tmp = await makeTempDir(parent, `.${path.basename(out)}.tmp-`);
  const imageDir = path.join(tmp, path.basename(layout.imageDir));
  const labelDir = path.join(tmp, path.basename(layout.labelDir));
  const sharp = await loadSharp();
  let bytes = 0;
  let resized = 0;
  try {
    await mkdirp(imageDir);
    await mkdirp(labelDir);
    const byId = new Map(scan.labels.map((l) => [l.id, l]));
    let done = 0;
    await mapLimit(
      scan.images,
      2,
      async (im) => {
        const from = path.join(layout.root, im.file);
        const p = planResize(im.width!, im.height!, o.width, o.height, o.mode);
        const target = path.join(imageDir, path.basename(im.file));
        if (p.width === im.width && p.height === im.height && p.left === 0 && p.top === 0 && o.width === im.width && o.height === im.height) {
          await writeFileAtomic(target, await readBytes(from));
        } else {
          let pipe = sharp(from, { failOn: 'truncated' }).rotate().resize(p.width, p.height, { fit: 'fill', kernel: 'linear' });
          if (p.width !== o.width || p.height !== o.height) {
            // TAO fills the letterbox with the image's mean colour (aug_letterbox_resize).
            const stats = await sharp(from).rotate().stats();
            const [r = 0, g = r, b = r] = stats.channels.map((c) => Math.round(c.mean));
            pipe = pipe.extend({ left: p.left, top: p.top, right: o.width - p.width - p.left, bottom: o.height - p.height - p.top, background: { r, g, b } });
          }
          pipe = im.format === 'png' ? pipe.png() : pipe.jpeg({ quality: 95 });
          const buf = await pipe.toBuffer();
          await writeFileAtomic(target, buf);
          bytes += buf.length;
          resized++;
        }
        const label = byId.get(im.id);
        if (label) await writeFileAtomic(path.join(labelDir, path.basename(label.file)), scaleLabelText(label.text, p));
        o.onProgress?.(++done, scan.images.length);
      },
      o.signal,
    );
    // Label files without an image are copied unchanged (dataset check reports them).
    for (const l of scan.labels) if (!scan.images.some((i) => i.id === l.id)) await writeFileAtomic(path.join(labelDir, path.basename(l.file)), await readText(path.join(layout.root, l.file)));
    await fsyncDir(imageDir);
    await fsyncDir(labelDir);
    await renamePath(tmp, out);
    await fsyncDir(parent);
  } catch (err) {
    await removeTree(tmp).catch(() => undefined);
    if (o.signal?.aborted) throw new AgentError('CANCELED', `The resize was canceled; nothing was written to ${out}.`, { cause: err });
    if (err instanceof AgentError) throw err;
    if ((err as NodeJS.ErrnoException).code) throw fsError('write', out, err);
    throw new AgentError('DATASET_IMAGE_CORRUPT', `Resizing failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err, hint: 'Run `jetson-fleet dataset check` on the set.' });
  }
  return { out, images: scan.images.length, labels: scan.labels.length, resized, bytes };
}
