import { UsageError } from '../../core/errors.js';
import { resizeDataset } from '../../dataset/resize.js';
import { resolveLayout, scanDataset } from '../../dataset/scan.js';
import type { CommandSpec } from '../types.js';
import { DATASET_DIR_OPTIONS, explicitDirs, loadSpecFor } from './dataset-check.js';
import { optString } from './opts.js';

export const datasetResizeCommand: CommandSpec = {
  path: ['dataset', 'resize'],
  summary: 'Copy a KITTI set at one size (the training size), boxes scaled with the images.',
  description:
    "Letterbox (as TAO's YOLO pre-processing: aspect kept, centred, padded with the image's mean colour) or stretch (each axis scaled). Written to a temporary directory beside --out and renamed into place when complete; the originals are only read. Refused up front when the estimated output does not fit in the free space.",
  positionals: [{ name: 'DIR', required: true, description: 'The dataset directory.' }],
  options: {
    to: { type: 'string', arg: 'WxH', description: 'Target size, e.g. 1248x384 (default: the --spec training size).' },
    out: { type: 'string', arg: 'DIR2', description: 'Output directory (must not exist).' },
    mode: { type: 'string', arg: 'MODE', description: "letterbox (default; the model package's letterbox-* resize) or stretch (its stretch resize)." },
    ...DATASET_DIR_OPTIONS,
  },
  examples: ['jetson-fleet dataset resize ./kitti_val --to 1248x384 --out ./kitti_val_1248', 'jetson-fleet dataset resize ./raw --spec yolo_v3_train.txt --mode stretch --out ./train_size'],
  async run(ctx) {
    const dir = ctx.positionals[0] ?? '';
    const out = optString(ctx, 'out');
    if (!out) throw new UsageError('--out DIR2 is required.');
    const spec = await loadSpecFor(ctx);
    const to = optString(ctx, 'to');
    let size = spec?.size ?? null;
    if (to !== undefined) {
      const m = /^(\d{1,5})[x×](\d{1,5})$/.exec(to);
      if (!m || Number(m[1]) < 1 || Number(m[2]) < 1 || Number(m[1]) > 8192 || Number(m[2]) > 8192) throw new UsageError(`--to "${to}" is not WxH with sides 1–8192 (e.g. 1248x384).`);
      size = { width: Number(m[1]), height: Number(m[2]) };
    }
    if (!size) throw new UsageError('Give --to WxH (or --spec with a preprocessing size).');
    const mode = optString(ctx, 'mode') ?? 'letterbox';
    if (mode !== 'letterbox' && mode !== 'stretch') throw new UsageError(`--mode must be letterbox or stretch, got "${mode}".`);
    const layout = await resolveLayout(dir, explicitDirs(ctx, spec?.spec));
    const scan = await scanDataset(layout, { decode: false, signal: ctx.signal });
    const r = await resizeDataset(layout, scan, {
      width: size.width,
      height: size.height,
      mode,
      out,
      signal: ctx.signal,
      onProgress: (d, n) => ctx.out.progress(`resizing ${d}/${n}`),
    });
    ctx.out.progress('');
    ctx.out.result({ ...r, width: size.width, height: size.height, mode });
    ctx.out.print(`${r.out}: ${r.images} images (${r.resized} resized) and ${r.labels} label files at ${size.width}x${size.height} (${mode}).`);
  },
};
