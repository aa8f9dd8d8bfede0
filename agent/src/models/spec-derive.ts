import { AgentError } from '../core/errors.js';
import type { ModelManifest } from '../core/contracts/model.js';
import { specMessage, specMessages, specScalar, type SpecMessage, type SpecValue } from './spec-parse.js';

/**
 * What a TLT/TAO experiment spec says about the exported model (issue #4 §2). Pure.
 * Field names: TLT YOLOv3 spec (seed workflow; tlt-models.md §1 "Deriving arguments", §7.2, §8.2, §8.4).
 */
export type Network = ModelManifest['network'];

export interface SpecSummary {
  readonly network: Network | null;
  readonly arch: string | null;
  readonly nlayers: number | null;
  readonly input: {
    readonly name: string;
    readonly channels: 1 | 3;
    readonly height: number;
    readonly width: number;
    readonly colorOrder: 'bgr' | 'gray';
    readonly mean: number[];
  };
  /** sorted(unique(target_class_mapping values)): index = class id (tlt-models.md §8.4). */
  readonly classes: string[];
  readonly nms: { confidenceThreshold: number; iouThreshold: number; topK: number } | null;
  /** Converter -o nodes for the network (tlt-models.md §4), null when the network is unknown. */
  readonly outputs: string[] | null;
  /** tlt-converter -d value C,H,W. */
  readonly dims: string;
}

/** TAO defaults when the spec has no image_mean (yolov3_exporter.load_model; tlt-models.md §7.2). */
export const DEFAULT_MEAN_BGR = [103.939, 116.779, 123.68];
export const DEFAULT_MEAN_GRAY = [117.3786];

/** Output nodes per network (tlt-models.md §4). */
export const OUTPUT_NODES: Readonly<Record<Network, readonly string[]>> = {
  yolov3: ['BatchedNMS'],
  yolov4: ['BatchedNMS'],
  'yolov4-tiny': ['BatchedNMS'],
  ssd: ['NMS'],
  detectnet_v2: ['output_cov/Sigmoid', 'output_bbox/BiasAdd'],
};

/** Input tensor names per network (tlt-models.md §4). */
export const INPUT_NAMES: Readonly<Record<Network, string>> = {
  yolov3: 'Input',
  yolov4: 'Input',
  'yolov4-tiny': 'Input',
  ssd: 'Input',
  detectnet_v2: 'input_1',
};

function invalid(file: string, message: string, v?: SpecValue): AgentError {
  const where = v ? `${file}:${v.pos.line}:${v.pos.col}` : file;
  return new AgentError('SPEC_INVALID', `${where}: ${message}`, { hint: 'Fix the experiment spec, or pass the value on the command line.' });
}

function num(file: string, msg: SpecMessage | undefined, name: string, path: string): number | undefined {
  const v = specScalar(msg, name);
  if (v === undefined) return undefined;
  if (v.kind !== 'number' || !Number.isFinite(v.value)) throw invalid(file, `${path} must be a number`, v);
  return v.value;
}

function int(file: string, msg: SpecMessage | undefined, name: string, path: string): number | undefined {
  const n = num(file, msg, name, path);
  if (n !== undefined && !Number.isInteger(n)) throw invalid(file, `${path} must be an integer, got ${n}`, specScalar(msg, name));
  return n;
}

function str(file: string, msg: SpecMessage | undefined, name: string, path: string): string | undefined {
  const v = specScalar(msg, name);
  if (v === undefined) return undefined;
  if (v.kind === 'string' || v.kind === 'ident') return v.value;
  throw invalid(file, `${path} must be a string`, v);
}

function networkOf(root: SpecMessage, arch: string | null): Network | null {
  const names = new Set(root.fields.map((f) => f.name));
  if (names.has('yolo_config') || names.has('yolov3_config')) return 'yolov3';
  if (names.has('yolov4_config')) return arch === 'cspdarknet_tiny' || arch === 'cspdarknet_tiny_3l' ? 'yolov4-tiny' : 'yolov4';
  if (names.has('ssd_config')) return 'ssd';
  if (names.has('bbox_rasterizer_config') || names.has('cost_function_config')) return 'detectnet_v2';
  return null;
}

export function deriveFromSpec(root: SpecMessage, file = 'spec'): SpecSummary {
  const yolo = specMessage(root, 'yolo_config') ?? specMessage(root, 'yolov3_config') ?? specMessage(root, 'yolov4_config') ?? specMessage(root, 'ssd_config');
  const arch = str(file, yolo, 'arch', 'arch') ?? null;
  const nlayers = int(file, yolo, 'nlayers', 'nlayers') ?? null;
  const network = networkOf(root, arch);

  const aug = specMessage(root, 'augmentation_config');
  const pre = specMessage(aug, 'preprocessing');
  const P = 'augmentation_config.preprocessing';
  const width = int(file, pre, 'output_image_width', `${P}.output_image_width`);
  const height = int(file, pre, 'output_image_height', `${P}.output_image_height`);
  if (width === undefined || height === undefined) {
    throw invalid(file, `${P}.output_image_width and output_image_height are required to derive the input size`);
  }
  if (width < 1 || height < 1 || width > 8192 || height > 8192) throw invalid(file, `input size ${width}×${height} is out of range`);
  const ch = int(file, pre, 'output_image_channel', `${P}.output_image_channel`) ?? 3;
  if (ch !== 1 && ch !== 3) throw invalid(file, `${P}.output_image_channel must be 1 or 3, got ${ch}`, specScalar(pre, 'output_image_channel'));
  const channels: 1 | 3 = ch;

  // image_mean is a map<string,float>: entries {key: "b" value: 103.9} (tlt-models.md §7.2).
  const means = new Map<string, number>();
  for (const entry of specMessages(aug, 'image_mean')) {
    const k = str(file, entry, 'key', 'augmentation_config.image_mean.key');
    const v = num(file, entry, 'value', 'augmentation_config.image_mean.value');
    if (k !== undefined && v !== undefined) means.set(k.toLowerCase(), v);
  }
  let mean = channels === 3 ? [...DEFAULT_MEAN_BGR] : [...DEFAULT_MEAN_GRAY];
  if (means.size > 0) {
    const order = channels === 3 ? ['b', 'g', 'r'] : ['l'];
    const missing = order.filter((k) => !means.has(k));
    if (missing.length) throw invalid(file, `augmentation_config.image_mean lacks ${missing.join(', ')} for a ${channels}-channel input`);
    mean = order.map((k) => means.get(k) ?? 0);
  }

  const dataset = specMessage(root, 'dataset_config');
  const mapped = new Set<string>();
  for (const m of specMessages(dataset, 'target_class_mapping')) {
    const v = str(file, m, 'value', 'dataset_config.target_class_mapping.value');
    if (v === undefined) throw invalid(file, 'a target_class_mapping entry has no value');
    mapped.add(v);
  }
  // Python sorted() over str = code-point order; JS sort of ASCII labels is the same.
  const classes = [...mapped].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

  const nmsMsg = specMessage(root, 'nms_config');
  let nms: SpecSummary['nms'] = null;
  if (nmsMsg) {
    const conf = num(file, nmsMsg, 'confidence_threshold', 'nms_config.confidence_threshold');
    const iou = num(file, nmsMsg, 'clustering_iou_threshold', 'nms_config.clustering_iou_threshold');
    const topK = int(file, nmsMsg, 'top_k', 'nms_config.top_k');
    if (conf === undefined || iou === undefined || topK === undefined) {
      throw invalid(file, 'nms_config needs confidence_threshold, clustering_iou_threshold and top_k');
    }
    nms = { confidenceThreshold: conf, iouThreshold: iou, topK };
  }

  return {
    network,
    arch,
    nlayers,
    input: {
      name: network ? INPUT_NAMES[network] : 'Input',
      channels,
      height,
      width,
      colorOrder: channels === 3 ? 'bgr' : 'gray',
      mean,
    },
    classes,
    nms,
    outputs: network ? [...OUTPUT_NODES[network]] : null,
    dims: `${channels},${height},${width}`,
  };
}
