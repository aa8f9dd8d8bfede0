import { AgentError, UsageError } from '../core/errors.js';
import { MODEL_SCHEMA_VERSION, type ModelManifest } from '../core/contracts/model.js';
import { validateManifest } from './manifest.js';
import type { graphManifestFields } from './families/graph-manifest.js';

type GraphFields = ReturnType<typeof graphManifestFields>;
import { INPUT_NAMES, OUTPUT_NODES, DEFAULT_MEAN_BGR, DEFAULT_MEAN_GRAY, tensorNormalisation, type Network, type SpecSummary } from './spec-derive.js';

/**
 * model.json for `jetson-fleet package create`: explicit flags win, then what the TLT spec
 * says, then schema defaults (issue #4 §1). Pure.
 */
export interface ManifestInputs {
  readonly modelFileName: string;
  readonly format: 'etlt' | 'onnx';
  /** Input name from the .etlt header (UFF payloads store it). */
  readonly etltInputName?: string;
  readonly spec?: { readonly fileName: string; readonly summary: SpecSummary };
  readonly name?: string;
  readonly version?: string;
  readonly network?: string;
  readonly classes?: readonly string[];
  readonly precision?: string;
  readonly maxBatch?: number;
  readonly keyRef?: string;
  /** C,H,W from --input: replaces the spec's. */
  readonly dims?: { readonly c: number; readonly h: number; readonly w: number };
  readonly calibrationFileName?: string;
  readonly golden?: ModelManifest['golden'];
  /**
   * What the ONNX graph says (models/families): `fields` for a non-TAO family replace the TAO
   * derivation of network/input/outputs/classes/nms; `tao` adds the family and signature to it.
   */
  readonly graph?:
    | { readonly kind: 'family'; readonly fields: GraphFields }
    | { readonly kind: 'tao'; readonly signature: NonNullable<ModelManifest['signature']>; readonly dynamicBatch: boolean };
}

/** Default package name from the model file: `yolo_resnet18_epoch_080.etlt` → `yolo_resnet18_epoch_080`. */
export function nameFromFile(file: string): string {
  const base = file.replace(/\.[^.]+$/, '').toLowerCase().replace(/[^a-z0-9._-]+/g, '-');
  return base.replace(/^-+|-+$/g, '') || 'model';
}

export function parseDims(text: string): { c: number; h: number; w: number } {
  const m = /^(\d+),(\d+),(\d+)$/.exec(text.trim());
  if (!m) throw new UsageError(`--input "${text}" is not C,H,W (e.g. 3,384,1248).`);
  return { c: Number(m[1]), h: Number(m[2]), w: Number(m[3]) };
}

export function buildManifest(i: ManifestInputs): ModelManifest {
  if (i.graph?.kind === 'family') return validated(buildFamilyManifest(i, i.graph.fields));
  const s = i.spec?.summary;
  const network = i.network ?? s?.network ?? undefined;
  if (network === undefined) {
    throw new UsageError('The network is unknown: the spec does not say it (no yolo_config/ssd_config …) and --network was not given.', 'Pass --network yolov3 (or yolov4, yolov4-tiny, ssd, detectnet_v2).');
  }
  if (!i.version) throw new UsageError('--version is required (the spec does not carry a model version).');
  const dims = i.dims ?? (s ? { c: s.input.channels, h: s.input.height, w: s.input.width } : undefined);
  if (!dims) throw new UsageError('The input size is unknown: give --spec (its augmentation_config output_width/output_height), or --input C,H,W.');
  const classes = i.classes && i.classes.length > 0 ? [...i.classes] : (s?.classes ?? []);
  if (classes.length === 0) throw new UsageError('No classes: the spec has no target_class_mapping and --classes was not given.', 'Pass --classes car,cyclist,pedestrian (index = class id).');
  const knownNet = Object.hasOwn(OUTPUT_NODES, network) ? (network as Network) : undefined;
  const channels = dims.c;
  // The spec's mean holds for the spec's channel count; a 16-bit model gets mean/256 · 256 (spec-input.ts).
  const norm = s && s.input.channels === channels ? tensorNormalisation(s.input.mean, s.input.depth) : { mean: channels === 1 ? DEFAULT_MEAN_GRAY : DEFAULT_MEAN_BGR, scale: 1 };
  const raw: Record<string, unknown> = {
    schemaVersion: MODEL_SCHEMA_VERSION,
    name: i.name ?? nameFromFile(i.modelFileName),
    version: i.version,
    network,
    format: i.format,
    file: i.modelFileName,
    input: {
      name: i.etltInputName || (knownNet ? INPUT_NAMES[knownNet] : 'Input'),
      channels,
      height: dims.h,
      width: dims.w,
      colorOrder: channels === 1 ? 'gray' : 'bgr',
      mean: norm.mean,
      scale: norm.scale,
      resize: 'letterbox-center',
      ...(i.graph?.kind === 'tao' && i.graph.dynamicBatch ? { dynamicBatch: true } : {}),
    },
    ...(i.graph?.kind === 'tao' ? { family: 'tao-batched-nms', signature: i.graph.signature } : {}),
    outputs: knownNet ? [...OUTPUT_NODES[knownNet]] : ['BatchedNMS'],
    classes,
    nms: s?.nms ?? {},
    ...(i.precision ? { precision: i.precision } : {}),
    ...(i.maxBatch !== undefined ? { maxBatch: i.maxBatch } : {}),
    ...(i.keyRef ? { keyRef: i.keyRef } : {}),
    ...(i.spec ? { spec: i.spec.fileName } : {}),
    ...(i.calibrationFileName ? { calibration: i.calibrationFileName } : {}),
    ...(i.golden ? { golden: i.golden } : {}),
  };
  return validated(raw);
}

function buildFamilyManifest(i: ManifestInputs, g: GraphFields): Record<string, unknown> {
  if (!i.version) throw new UsageError('--version is required (the model does not carry a package version).');
  return {
    schemaVersion: MODEL_SCHEMA_VERSION,
    name: i.name ?? nameFromFile(i.modelFileName),
    version: i.version,
    format: i.format,
    file: i.modelFileName,
    ...g,
    ...(i.precision ? { precision: i.precision } : {}),
    ...(i.maxBatch !== undefined ? { maxBatch: i.maxBatch } : {}),
    ...(i.calibrationFileName ? { calibration: i.calibrationFileName } : {}),
    ...(i.golden ? { golden: i.golden } : {}),
  };
}

function validated(raw: Record<string, unknown>): ModelManifest {
  try {
    return validateManifest(raw, 'the derived model.json');
  } catch (err) {
    if (err instanceof AgentError) throw new AgentError(err.code, err.message, { hint: 'Fix the flags or the spec.', ...(err.details ? { details: err.details } : {}) });
    throw err;
  }
}
