import { specMessage, specMessages, type SpecMessage } from './spec-parse.js';
import { posOf, type SpecReader } from './spec-read.js';

/**
 * The input tensor a TLT/TAO spec describes (docs/reference/tao-specs.md §3, §4): size and
 * channels from either layout, bit depth, and the per-channel mean. Pure.
 */
export type SpecLayout = 'tlt2' | 'tao';

export interface SpecSize {
  readonly layout: SpecLayout;
  readonly width: number;
  readonly height: number;
  readonly channels: 1 | 3;
}

/** TAO's means when the spec has no image_mean (docs/reference/tao-specs.md §4). */
export const DEFAULT_MEAN_BGR = [103.939, 116.779, 123.68];
export const DEFAULT_MEAN_GRAY = [117.3786];
/** 117.3786 × 256: TAO's grayscale mean for 16-bit images. */
export const DEFAULT_MEAN_GRAY16 = [30048.9216];

const FLAT = ['output_width', 'output_height', 'output_channel'] as const;

/**
 * TAO 3.0+ puts output_width/output_height/output_channel directly in augmentation_config
 * (yolo_v3|yolo_v4/proto/augmentation_config.proto fields 7–9); TLT 2.0 nests
 * output_image_width/_height/_channel in augmentation_config.preprocessing
 * (detectnet_v2/proto/augmentation_config.proto). Every problem here can be fixed with --input.
 */
export function readSize(r: SpecReader, aug: SpecMessage | undefined, yolo: boolean): SpecSize {
  if (!aug) {
    throw r.invalid(
      'augmentation_config is missing: the input size comes from its output_width/output_height (TAO 3.0+) or preprocessing.output_image_width/output_image_height (TLT 2.0)',
      undefined,
      'input',
    );
  }
  const pre = specMessage(aug, 'preprocessing');
  const flatField = FLAT.find((n) => aug.fields.some((f) => f.name === n));
  if (pre && flatField) {
    throw r.invalid(
      `augmentation_config mixes the TLT 2.0 layout (preprocessing at line ${posOf(aug, 'preprocessing')?.line ?? 0}) and the TAO 3.0+ layout (${flatField} at line ${posOf(aug, flatField)?.line ?? 0}); keep one`,
      posOf(aug, flatField),
      'input',
    );
  }
  const layout: SpecLayout = pre ? 'tlt2' : 'tao';
  const msg = pre ?? aug;
  const P = pre ? 'augmentation_config.preprocessing' : 'augmentation_config';
  const [wName, hName, cName] = pre ? ['output_image_width', 'output_image_height', 'output_image_channel'] : FLAT;
  const width = r.int(msg, wName, `${P}.${wName}`, 'input');
  const height = r.int(msg, hName, `${P}.${hName}`, 'input');
  if (width === undefined || height === undefined) {
    throw r.invalid(`${P}.${wName} and ${hName} are required to derive the input size`, posOf(aug, 'preprocessing'), 'input');
  }
  for (const [name, v] of [
    [wName, width],
    [hName, height],
  ] as const) {
    if (v < 1 || v > 8192) throw r.invalid(`${P}.${name} ${v} is out of range (1…8192)`, posOf(msg, name), 'input');
    // yolo_v3|yolo_v4/utils/spec_loader.py: "width must be at least 32", "… multiple of 32".
    if (yolo && (v < 32 || v % 32 !== 0)) throw r.invalid(`${P}.${name} ${v} must be a multiple of 32 and at least 32 (TAO refuses other YOLO sizes)`, posOf(msg, name), 'input');
  }
  const ch = r.int(msg, cName, `${P}.${cName}`, 'input');
  if (ch === undefined) {
    // NVIDIA's own TLT 3.0 dev-blog specs omit it; TAO 5's spec_loader.py requires 1 or 3.
    r.warn(posOf(aug, pre ? 'preprocessing' : (flatField ?? 'output_width')), `${P}.${cName} is absent: taken as 3 (colour)`);
  } else if (ch !== 1 && ch !== 3) {
    throw r.invalid(`${P}.${cName} must be 1 or 3, got ${ch}`, posOf(msg, cName), 'input');
  }
  return { layout, width, height, channels: ch === 1 ? 1 : 3 };
}

/**
 * Bits per pixel per channel: `int(output_depth) or 8`, 8 or 16, 16 only for grayscale
 * (yolo_v4/export/yolov4_exporter.py load_model; yolo_v4/utils/spec_loader.py). The TLT 2.0
 * layout has no depth.
 */
export function readDepth(r: SpecReader, aug: SpecMessage | undefined, channels: 1 | 3): 8 | 16 {
  if (!aug || specMessage(aug, 'preprocessing')) return 8;
  const d = r.int(aug, 'output_depth', 'augmentation_config.output_depth') || 8;
  if (d !== 8 && d !== 16) throw r.invalid(`augmentation_config.output_depth must be 8 or 16, got ${d}`, posOf(aug, 'output_depth'));
  if (d === 16 && channels === 3) throw r.invalid('augmentation_config.output_depth 16 needs output_channel 1: TAO supports 16-bit images only for grayscale', posOf(aug, 'output_depth'));
  return d;
}

/**
 * image_mean is a map<string, float> (`image_mean { key: 'b' value: 103.9 }`, one entry per
 * channel; a repeated key: the last wins, as in protobuf). Keys are case-sensitive: TAO reads
 * img_mean['b'], ['g'], ['r'] for 3 channels and ['l'] for 1 (yolov3_exporter.py,
 * yolov4_exporter.py load_model). Result in tensor order: B, G, R (TAO YOLO is BGR) or L.
 */
export function readMean(r: SpecReader, aug: SpecMessage | undefined, channels: 1 | 3, depth: 8 | 16): number[] {
  const entries = specMessages(aug, 'image_mean');
  if (entries.length === 0) return [...(channels === 3 ? DEFAULT_MEAN_BGR : depth === 16 ? DEFAULT_MEAN_GRAY16 : DEFAULT_MEAN_GRAY)];
  const means = new Map<string, number>();
  for (const e of entries) {
    const k = r.str(e, 'key', 'augmentation_config.image_mean.key') ?? '';
    const v = r.num(e, 'value', 'augmentation_config.image_mean.value');
    const at = e.fields[0]?.pos ?? posOf(aug, 'image_mean');
    if (v === undefined) r.warn(at, `augmentation_config.image_mean "${k}" has no value: protobuf reads 0`);
    if (means.has(k)) r.warn(at, `augmentation_config.image_mean "${k}" is given twice: the last value wins`);
    means.set(k, v ?? 0);
  }
  const order = channels === 3 ? ['b', 'g', 'r'] : ['l'];
  const missing = order.filter((k) => !means.has(k));
  if (missing.length) {
    throw r.invalid(
      `augmentation_config.image_mean lacks ${missing.join(', ')} for a ${channels}-channel input (TAO needs the keys ${order.join(', ')}, case-sensitive)`,
      posOf(aug, 'image_mean'),
    );
  }
  for (const k of means.keys()) {
    if (!order.includes(k)) r.warn(posOf(aug, 'image_mean'), `augmentation_config.image_mean key '${k}' is not used by a ${channels}-channel model: ignored`);
  }
  return order.map((k) => means.get(k) ?? 0);
}

/**
 * The agent decodes 8-bit images; a 16-bit model sees them widened by × 256, the same
 * convention as TAO's 16-bit default mean (117.3786 × 256). y = (x16 − m) = (x8 − m/256) · 256,
 * so the manifest carries mean/256 and scale 256 (docs/reference/tao-specs.md §4).
 */
export function tensorNormalisation(mean: readonly number[], depth: 8 | 16): { mean: number[]; scale: number } {
  return depth === 16 ? { mean: mean.map((m) => m / 256), scale: 256 } : { mean: [...mean], scale: 1 };
}
