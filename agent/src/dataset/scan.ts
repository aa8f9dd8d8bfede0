import type { default as Sharp } from 'sharp';
import path from 'node:path';
import { AgentError } from '../core/errors.js';
import { fsError, listDir, readText, statMaybe } from '../platform/fs.js';
import type { ScannedImage, ScannedLabel, ScanResult } from './check.js';

/**
 * Reads a KITTI detection set from disk: the image and label directories, each image's header
 * (and, for `dataset check`, a full decode), each label file's text. The decisions are in
 * check.ts.
 */
export interface DatasetLayout {
  readonly root: string;
  readonly imageDir: string;
  readonly labelDir: string;
}

/** Directory names seen in KITTI-layout sets: TAO's docs (image/label), KITTI's own (image_2/label_2). */
const IMAGE_DIRS = ['image', 'images', 'image_2'];
const LABEL_DIRS = ['label', 'labels', 'label_2'];
const IMAGE_EXT = new Set(['.jpg', '.jpeg', '.png']);
/** What TAO's loaders also list as images; the agent cannot decode these. */
const OTHER_IMAGE_EXT = new Set(['.bmp', '.gif']);

async function isDir(p: string): Promise<boolean> {
  return (await statMaybe(p))?.isDirectory() ?? false;
}

/**
 * DIR/image + DIR/label (or images/labels, image_2/label_2), or explicit directories (the
 * spec's image_directory_path / label_directory_path), relative ones resolved against DIR.
 */
export async function resolveLayout(root: string, explicit?: { readonly imageDir?: string; readonly labelDir?: string }): Promise<DatasetLayout> {
  if (!(await isDir(root))) {
    throw new AgentError('DATASET_NOT_FOUND', `${root} is not a directory.`, { hint: 'Pass the directory that holds image/ and label/.' });
  }
  const pick = async (given: string | undefined, names: readonly string[], what: string): Promise<string> => {
    if (given !== undefined) {
      const p = path.resolve(root, given);
      if (!(await isDir(p))) {
        throw new AgentError('DATASET_NOT_FOUND', `The ${what} directory ${p} (from the spec or the command line) does not exist.`, {
          hint: `Point --${what}-dir at the ${what}s, or lay the set out as ${root}/${names[0]}/.`,
        });
      }
      return p;
    }
    for (const n of names) if (await isDir(path.join(root, n))) return path.join(root, n);
    throw new AgentError('DATASET_NOT_FOUND', `${root} has no ${names.join('/, ')}/ directory.`, {
      hint: `Lay the set out as ${root}/image/ and ${root}/label/ (KITTI layout), or pass --${what}-dir (or --spec with ${what}_directory_path).`,
    });
  };
  return { root, imageDir: await pick(explicit?.imageDir, IMAGE_DIRS, 'image'), labelDir: await pick(explicit?.labelDir, LABEL_DIRS, 'label') };
}

export interface ScanOptions {
  /** Decode every image fully (a truncated JPEG shows only then); header only otherwise. */
  readonly decode: boolean;
  readonly signal?: AbortSignal;
  /** Images read at once (the decode runs on libuv's pool). */
  readonly concurrency?: number;
  readonly onProgress?: (done: number, total: number) => void;
}

type SharpModule = typeof Sharp;
let sharpP: Promise<SharpModule> | undefined;
export function loadSharp(): Promise<SharpModule> {
  sharpP ??= import('sharp').then((m) => {
    m.default.cache(false);
    return m.default;
  });
  return sharpP;
}

async function readImage(file: string, rel: string, id: string, decode: boolean): Promise<ScannedImage> {
  const sharp = await loadSharp();
  try {
    const meta = await sharp(file, { limitInputPixels: false }).metadata();
    const format = meta.format ?? null;
    if (format !== 'jpeg' && format !== 'png') return { id, file: rel, format, width: null, height: null, error: `the file is ${format ?? 'not an image'}, not JPEG/PNG` };
    // EXIF orientations 5–8 swap the axes, as the inference service sees the image.
    const swap = (meta.orientation ?? 1) >= 5;
    const width = (swap ? meta.height : meta.width) ?? null;
    const height = (swap ? meta.width : meta.height) ?? null;
    if (decode) await sharp(file, { failOn: 'truncated', limitInputPixels: false }).raw().toBuffer();
    return { id, file: rel, format, width, height, error: null };
  } catch (err) {
    const msg = (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '';
    return { id, file: rel, format: null, width: null, height: null, error: msg };
  }
}

/** Runs `fn` over `items` with at most `n` at once, in order of completion; honours `signal`. */
export async function mapLimit<T, R>(items: readonly T[], n: number, fn: (item: T, i: number) => Promise<R>, signal?: AbortSignal): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      signal?.throwIfAborted();
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(n, items.length)) }, worker));
  signal?.throwIfAborted();
  return out;
}

export async function scanDataset(layout: DatasetLayout, o: ScanOptions): Promise<ScanResult> {
  const rel = (p: string): string => path.relative(layout.root, p) || '.';
  let imageNames: string[];
  let labelNames: string[];
  try {
    imageNames = (await listDir(layout.imageDir)).sort();
    labelNames = (await listDir(layout.labelDir)).sort();
  } catch (err) {
    throw fsError('list', layout.root, err);
  }
  const byId = new Map<string, string[]>();
  const unsupported: string[] = [];
  for (const name of imageNames) {
    const ext = path.extname(name).toLowerCase();
    const id = name.slice(0, name.length - ext.length);
    if (IMAGE_EXT.has(ext)) byId.set(id, [...(byId.get(id) ?? []), name]);
    else if (OTHER_IMAGE_EXT.has(ext)) unsupported.push(rel(path.join(layout.imageDir, name)));
  }
  const duplicates = [...byId.entries()].filter(([, f]) => f.length > 1).map(([id, f]) => ({ id, files: f.map((n) => rel(path.join(layout.imageDir, n))) }));
  const imageList = [...byId.entries()].map(([id, f]) => ({ id, name: f[0]! }));
  let done = 0;
  const images = await mapLimit(
    imageList,
    o.concurrency ?? 2,
    async ({ id, name }) => {
      const r = await readImage(path.join(layout.imageDir, name), rel(path.join(layout.imageDir, name)), id, o.decode);
      o.onProgress?.(++done, imageList.length);
      return r;
    },
    o.signal,
  );
  const labels: ScannedLabel[] = [];
  for (const name of labelNames) {
    if (path.extname(name) !== '.txt') continue;
    const file = path.join(layout.labelDir, name);
    let text: string;
    try {
      text = await readText(file);
    } catch (err) {
      throw fsError('read', file, err);
    }
    labels.push({ id: name.slice(0, -4), file: rel(file), text });
  }
  return { images, labels, duplicates, unsupported };
}
