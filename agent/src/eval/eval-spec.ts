import { AgentError } from '../core/errors.js';
import { specMessage, specMessages, specScalar, type SpecMessage, type SpecValue } from '../models/spec-parse.js';

/**
 * What an evaluation needs from a TAO experiment spec, read over the parsed tree (the spec
 * parser's own summary does not carry these fields). Field names and defaults as TAO's YOLO
 * evaluators read them (docs/reference/voc-eval.md, "What TAO reads from the spec"). Pure.
 */
export type ApMode = 'sample' | 'integrate';

export interface ClassMapping {
  /** Lower-cased label type → lower-cased target class (TAO lower-cases both sides). */
  readonly map: ReadonlyMap<string, string>;
  /** sorted(unique(values)): index = class id. */
  readonly classes: readonly string[];
}

export interface DataSource {
  readonly imageDir: string;
  readonly labelDir: string | null;
}

export interface EvalSpec {
  /** eval_config.average_precision_mode (proto default SAMPLE). */
  readonly mode: ApMode;
  /** eval_config.matching_iou_threshold; TAO uses 0.5 when it is 0 or absent. */
  readonly iouThreshold: number;
  /** nms_config.confidence_threshold (0 when absent). */
  readonly confidenceThreshold: number;
  readonly mapping: ClassMapping | null;
  /** dataset_config.validation_data_sources, then data_sources (in that order of preference). */
  readonly validationSources: readonly DataSource[];
  readonly dataSources: readonly DataSource[];
}

function bad(file: string, message: string, v?: SpecValue): AgentError {
  const where = v ? `${file}:${v.pos.line}:${v.pos.col}` : file;
  return new AgentError('SPEC_INVALID', `${where}: ${message}`, { hint: 'Fix the experiment spec, or pass --mode/--iou on the command line.' });
}

function text(file: string, msg: SpecMessage | undefined, name: string): string | undefined {
  const v = specScalar(msg, name);
  if (v === undefined) return undefined;
  if (v.kind === 'string' || v.kind === 'ident') return v.value;
  throw bad(file, `${name} must be a string`, v);
}

function number(file: string, msg: SpecMessage | undefined, name: string): number | undefined {
  const v = specScalar(msg, name);
  if (v === undefined) return undefined;
  if (v.kind !== 'number' || !Number.isFinite(v.value)) throw bad(file, `${name} must be a number`, v);
  return v.value;
}

/** target_class_mapping as TAO's KITTI loaders build it (keys and values lower-cased). */
export function classMappingOf(root: SpecMessage, file = 'spec'): ClassMapping | null {
  const entries = specMessages(specMessage(root, 'dataset_config'), 'target_class_mapping');
  if (entries.length === 0) return null;
  const map = new Map<string, string>();
  for (const e of entries) {
    const k = text(file, e, 'key');
    const v = text(file, e, 'value');
    if (k === undefined || v === undefined) throw bad(file, 'a target_class_mapping entry lacks its key or value');
    map.set(k.toLowerCase(), v.toLowerCase());
  }
  const classes = [...new Set(map.values())].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return { map, classes };
}

function sources(file: string, dataset: SpecMessage | undefined, name: string): DataSource[] {
  return specMessages(dataset, name).flatMap((s) => {
    const imageDir = text(file, s, 'image_directory_path');
    return imageDir === undefined ? [] : [{ imageDir, labelDir: text(file, s, 'label_directory_path') ?? null }];
  });
}

export function readEvalSpec(root: SpecMessage, file = 'spec'): EvalSpec {
  const ev = specMessage(root, 'eval_config');
  const modeV = specScalar(ev, 'average_precision_mode');
  let mode: ApMode = 'sample';
  if (modeV !== undefined) {
    // Enum by name or by number (SAMPLE = 0, INTEGRATE = 1), as protobuf text allows both.
    const m = modeV.kind === 'ident' ? modeV.value.toUpperCase() : modeV.kind === 'number' ? ['SAMPLE', 'INTEGRATE'][modeV.value] : undefined;
    if (m !== 'SAMPLE' && m !== 'INTEGRATE') throw bad(file, 'eval_config.average_precision_mode must be SAMPLE or INTEGRATE', modeV);
    mode = m === 'SAMPLE' ? 'sample' : 'integrate';
  }
  const iou = number(file, ev, 'matching_iou_threshold');
  if (iou !== undefined && (iou < 0 || iou > 1)) throw bad(file, `eval_config.matching_iou_threshold ${iou} is outside [0, 1]`, specScalar(ev, 'matching_iou_threshold'));
  const conf = number(file, specMessage(root, 'nms_config'), 'confidence_threshold') ?? 0;
  const dataset = specMessage(root, 'dataset_config');
  return {
    mode,
    iouThreshold: iou === undefined || iou === 0 ? 0.5 : iou,
    confidenceThreshold: conf,
    mapping: classMappingOf(root, file),
    validationSources: sources(file, dataset, 'validation_data_sources'),
    dataSources: sources(file, dataset, 'data_sources'),
  };
}
