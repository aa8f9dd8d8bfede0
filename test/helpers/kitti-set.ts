import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';

/** Synthetic KITTI-layout sets: black images with filled rectangles, label lines of our own. */
export interface Rect {
  /** RGB colour. */
  readonly rgb: readonly [number, number, number];
  readonly x1: number;
  readonly y1: number;
  readonly x2: number;
  readonly y2: number;
}

export async function rectanglePng(width: number, height: number, rects: readonly Rect[]): Promise<Buffer> {
  const raw = Buffer.alloc(width * height * 3);
  for (const r of rects) {
    for (let y = r.y1; y < r.y2; y++) for (let x = r.x1; x < r.x2; x++) raw.set(r.rgb, (y * width + x) * 3);
  }
  return sharp(raw, { raw: { width, height, channels: 3 } }).png().toBuffer();
}

/** One KITTI label line: type, truncated, occluded, alpha, bbox, dims, location, rotation_y (+ score). */
export function kittiLine(type: string, box: readonly [number, number, number, number], o: { occluded?: number; score?: number } = {}): string {
  const f = [type, '0.00', String(o.occluded ?? 0), '0.00', ...box.map((v) => v.toFixed(2)), '1.50', '1.60', '3.80', '0.00', '0.00', '0.00', '0.00'];
  if (o.score !== undefined) f.push(String(o.score));
  return f.join(' ');
}

export interface SetImage {
  readonly id: string;
  readonly rects: readonly Rect[];
  readonly labels: readonly string[];
  /** Bytes to write instead of the rendered PNG (a corrupt file). */
  readonly bytes?: Buffer;
}

export async function writeKittiSet(dir: string, width: number, height: number, images: readonly SetImage[]): Promise<void> {
  await mkdir(path.join(dir, 'image'), { recursive: true });
  await mkdir(path.join(dir, 'label'), { recursive: true });
  for (const im of images) {
    await writeFile(path.join(dir, 'image', `${im.id}.png`), im.bytes ?? (await rectanglePng(width, height, im.rects)));
    await writeFile(path.join(dir, 'label', `${im.id}.txt`), im.labels.map((l) => `${l}\n`).join(''));
  }
}

/** A TAO YOLOv3 spec (the fields the evaluation reads), in the layout of TAO's sample specs. */
export function evalSpecText(o: { width: number; height: number; mode?: 'SAMPLE' | 'INTEGRATE'; iou?: number; confidence?: number }): string {
  return `random_seed: 42
yolov3_config {
  arch: "resnet"
  nlayers: 18
}
eval_config {
  average_precision_mode: ${o.mode ?? 'SAMPLE'}
  batch_size: 8
  matching_iou_threshold: ${o.iou ?? 0.5}
}
nms_config {
  confidence_threshold: ${o.confidence ?? 0.3}
  clustering_iou_threshold: 0.5
  top_k: 200
}
augmentation_config {
  preprocessing {
    output_image_width: ${o.width}
    output_image_height: ${o.height}
    output_image_channel: 3
  }
}
dataset_config {
  data_sources: {
    label_directory_path: "label"
    image_directory_path: "image"
  }
  target_class_mapping { key: "car" value: "car" }
  target_class_mapping { key: "van" value: "car" }
  target_class_mapping { key: "cyclist" value: "cyclist" }
  target_class_mapping { key: "pedestrian" value: "pedestrian" }
  target_class_mapping { key: "person_sitting" value: "pedestrian" }
}
`;
}
