import { UsageError } from '../../core/errors.js';
import type { ProfileFlags, ThresholdFlags } from '../../models/families/graph-manifest.js';
import { readText } from '../../platform/fs.js';
import type { CommandContext, OptionSpec } from '../types.js';
import { optInt, optString } from './opts.js';

/**
 * `package create` flags for ONNX detector families: the pre-processing profile and the
 * thresholds over the family's upstream defaults (docs/models.md "Profiles", "Thresholds").
 */
export const FAMILY_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  family: { type: 'string', arg: 'NAME', description: 'Detector family, overriding the one read from the .onnx graph (docs/models.md "Families").' },
  labels: { type: 'string', arg: 'FILE', description: 'Class names, one a line in class-id order (instead of --classes).' },
  color: { type: 'string', arg: 'rgb|bgr', description: 'Channel order of the input tensor (default: the family\'s).' },
  resize: { type: 'string', arg: 'MODE', description: 'letterbox-center | letterbox-topleft | stretch (default: the family\'s).' },
  pad: { type: 'string', arg: 'V', description: 'Letterbox pad pixel value 0–255 (Ultralytics/YOLOX: 114).' },
  mean: { type: 'string', arg: 'a,b,c', description: 'Per-channel mean in 0–255 units, tensor channel order.' },
  std: { type: 'string', arg: 'a,b,c', description: 'Per-channel divisor after the mean (0–255 units).' },
  scale: { type: 'string', arg: 'X', description: 'Multiplier after the mean (1/255 = 0.00392156862745098).' },
  resample: { type: 'string', arg: 'KIND', description: 'opencv-linear (cv2 INTER_LINEAR arithmetic) | libvips-linear.' },
  'score-threshold': { type: 'string', arg: 'X', description: 'Default score threshold of the package (0–1).' },
  'iou-threshold': { type: 'string', arg: 'X', description: 'Default NMS IoU of the package (families whose NMS the agent runs).' },
  'max-detections': { type: 'string', arg: 'N', description: 'Default detections per image.' },
  'only-classes': { type: 'string', arg: 'a,b', description: 'Class filter: return only these labels.' },
};

const list = (v: string, name: string): number[] => {
  const out = v.split(',').map((x) => Number(x.trim()));
  if (out.length < 1 || out.length > 3 || out.some((x) => !Number.isFinite(x))) throw new UsageError(`--${name} "${v}" is not 1 to 3 numbers separated by commas.`);
  return out;
};
const unit = (ctx: CommandContext, name: string): number | undefined => {
  const v = optString(ctx, name);
  if (v === undefined) return undefined;
  const x = Number(v);
  if (!Number.isFinite(x) || x < 0 || x > 1) throw new UsageError(`--${name} "${v}" is not a number in [0, 1].`);
  return x;
};
function oneOf<T extends string>(ctx: CommandContext, name: string, allowed: readonly T[]): T | undefined {
  const v = optString(ctx, name);
  if (v === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(v)) throw new UsageError(`--${name} "${v}" is not one of ${allowed.join(', ')}.`);
  return v as T;
}

export function profileFlags(ctx: CommandContext): ProfileFlags | undefined {
  const pad = optString(ctx, 'pad');
  const scale = optString(ctx, 'scale');
  const mean = optString(ctx, 'mean');
  const std = optString(ctx, 'std');
  const p: Record<string, unknown> = {
    colorOrder: oneOf(ctx, 'color', ['rgb', 'bgr'] as const),
    resize: oneOf(ctx, 'resize', ['letterbox-center', 'letterbox-topleft', 'stretch'] as const),
    resample: oneOf(ctx, 'resample', ['opencv-linear', 'libvips-linear'] as const),
    pad: pad === undefined ? undefined : Number(pad),
    scale: scale === undefined ? undefined : Number(scale),
    mean: mean === undefined ? undefined : list(mean, 'mean'),
    std: std === undefined ? undefined : list(std, 'std'),
  };
  if (p.pad !== undefined && !(Number.isFinite(p.pad) && (p.pad as number) >= 0 && (p.pad as number) <= 255)) throw new UsageError(`--pad "${pad}" is not a pixel value in [0, 255].`);
  if (p.scale !== undefined && !(Number.isFinite(p.scale) && (p.scale as number) > 0)) throw new UsageError(`--scale "${scale}" is not a positive number.`);
  const set = Object.fromEntries(Object.entries(p).filter(([, v]) => v !== undefined));
  return Object.keys(set).length > 0 ? (set) : undefined;
}

export function thresholdFlags(ctx: CommandContext): ThresholdFlags | undefined {
  const only = optString(ctx, 'only-classes')?.split(',').map((c) => c.trim()).filter(Boolean);
  const t: Record<string, unknown> = {
    confidenceThreshold: unit(ctx, 'score-threshold'),
    iouThreshold: unit(ctx, 'iou-threshold'),
    maxDetections: optInt(ctx, 'max-detections', 1),
    only,
  };
  const set = Object.fromEntries(Object.entries(t).filter(([, v]) => v !== undefined));
  return Object.keys(set).length > 0 ? (set) : undefined;
}

/** --labels FILE: one class name a line (blank lines and a trailing newline ignored). */
export async function labelsFile(ctx: CommandContext): Promise<string[] | undefined> {
  const f = optString(ctx, 'labels');
  if (f === undefined) return undefined;
  let text: string;
  try {
    text = await readText(f);
  } catch (err) {
    throw new UsageError(`--labels ${f} cannot be read: ${(err as Error).message}.`);
  }
  const names = text.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
  if (names.length === 0) throw new UsageError(`--labels ${f} has no class names.`);
  return names;
}
