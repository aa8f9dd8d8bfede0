import { AgentError } from '../core/errors.js';
import type { ModelManifest } from '../core/contracts/model.js';
import { specMessage, type SpecMessage } from './spec-parse.js';
import { SpecReader, posOf, type SpecFlags } from './spec-read.js';
import { checkSpecFields, type SpecWarning } from './spec-schema.js';
import { readDepth, readMean, readSize, type SpecLayout } from './spec-input.js';
import { readClasses } from './spec-classes.js';
import { readNms, type ExportedNmsAttributes, type SpecNms } from './spec-nms.js';

export { DEFAULT_MEAN_BGR, DEFAULT_MEAN_GRAY, DEFAULT_MEAN_GRAY16, tensorNormalisation } from './spec-input.js';
export type { SpecFlags } from './spec-read.js';
export type { SpecWarning } from './spec-schema.js';

/**
 * What a TLT 2.0 or TAO 3.0–5.x YOLO experiment spec says about the exported model
 * (docs/reference/tao-specs.md): input size, channels and depth from either
 * augmentation_config layout, the mean, the class list, nms_config and the BatchedNMS
 * attributes tao export writes, the network. Values given on the command line replace the
 * spec's (and silence its problems with them, as a warning). Unknown fields are warnings.
 * Pure.
 */
/** The TAO networks a spec can name (the manifest also takes `onnx`, which no spec names). */
export type Network = Exclude<ModelManifest['network'], 'onnx'>;

export interface SpecSummary {
  /** `tao`: TAO 3.0+ flat augmentation_config; `tlt2`: TLT 2.0 augmentation_config.preprocessing. */
  readonly layout: SpecLayout | null;
  readonly network: Network | null;
  readonly arch: string | null;
  readonly nlayers: number | null;
  readonly input: {
    readonly name: string;
    readonly channels: 1 | 3;
    readonly height: number;
    readonly width: number;
    /** Bits per channel the model was trained on (augmentation_config.output_depth). */
    readonly depth: 8 | 16;
    readonly colorOrder: 'bgr' | 'gray';
    /** Per channel in tensor order (B, G, R or L), in the model's pixel units. */
    readonly mean: number[];
  };
  /** Index = class id (docs/reference/tao-specs.md §5). */
  readonly classes: string[];
  readonly nms: SpecNms | null;
  /** The BatchedNMS attributes tao export derives from this spec (YOLO only). */
  readonly nmsPlugin: ExportedNmsAttributes | null;
  /** Anchor shapes (width, height) per output scale, from the network block. */
  readonly anchors: { readonly big: number[][]; readonly mid: number[][]; readonly small: number[][] } | null;
  /** Converter -o nodes for the network, null when the network is unknown. */
  readonly outputs: string[] | null;
  /** tao-converter -d value C,H,W. */
  readonly dims: string;
  /** Spec values replaced by command-line values. */
  readonly overridden: string[];
  readonly warnings: SpecWarning[];
}

export interface DeriveOptions {
  /** Command-line flags the caller has for spec values; error hints offer only these. */
  readonly flags?: SpecFlags;
  /** Command-line values: they replace the spec's (input C,H,W; classes). */
  readonly overrides?: { readonly dims?: { readonly c: number; readonly h: number; readonly w: number }; readonly classes?: readonly string[] };
}

/** Output nodes per network (docs/reference/tao-specs.md §7; DeepStream pgie configs). */
export const OUTPUT_NODES: Readonly<Record<Network, readonly string[]>> = {
  yolov3: ['BatchedNMS'],
  yolov4: ['BatchedNMS'],
  'yolov4-tiny': ['BatchedNMS'],
  ssd: ['NMS'],
  detectnet_v2: ['output_cov/Sigmoid', 'output_bbox/BiasAdd'],
};

/** Input tensor names per network (yolov3_exporter.py set_input_output_node_names: "Input"). */
export const INPUT_NAMES: Readonly<Record<Network, string>> = {
  yolov3: 'Input',
  yolov4: 'Input',
  'yolov4-tiny': 'Input',
  ssd: 'Input',
  detectnet_v2: 'input_1',
};

const YOLO_BLOCKS = ['yolov3_config', 'yolov4_config', 'yolo_config'] as const;
const TINY_ARCHS = new Set(['cspdarknet_tiny', 'cspdarknet_tiny_3l']);

function isYolo(n: Network | null): boolean {
  return n === 'yolov3' || n === 'yolov4' || n === 'yolov4-tiny';
}

function networkBlock(r: SpecReader, root: SpecMessage): { name: string; msg: SpecMessage } | null {
  const present = YOLO_BLOCKS.filter((b) => specMessage(root, b));
  if (present.length > 1) r.warn(posOf(root, present[1] ?? ''), `the spec has ${present.join(' and ')}; a TAO spec has one: using ${present[0]}`);
  const name = present[0] ?? (specMessage(root, 'ssd_config') ? 'ssd_config' : undefined);
  const msg = name ? specMessage(root, name) : undefined;
  return name && msg ? { name, msg } : null;
}

function networkOf(root: SpecMessage, block: string | undefined, arch: string | null): Network | null {
  // yolo_v4_tiny reuses YOLOv4Config; the arch tells them apart (yolo_v4/architecture/yolo_arch.py).
  if (block === 'yolo_config' || block === 'yolov3_config') return 'yolov3';
  if (block === 'yolov4_config') return arch && TINY_ARCHS.has(arch) ? 'yolov4-tiny' : 'yolov4';
  if (block === 'ssd_config') return 'ssd';
  if (specMessage(root, 'bbox_rasterizer_config') || specMessage(root, 'cost_function_config')) return 'detectnet_v2';
  return null;
}

/** `"[(114.94, 60.67), (159.06, 114.59)]"` → [[114.94, 60.67], [159.06, 114.59]]; null when malformed. */
export function parseAnchors(text: string): number[][] | null {
  const body = text.trim();
  if (body === '') return [];
  if (!/^\[\s*(\(\s*[-+.\deE]+\s*,\s*[-+.\deE]+\s*\)\s*,?\s*)*\]$/.test(body)) return null;
  const out: number[][] = [];
  for (const m of body.matchAll(/\(\s*([-+.\deE]+)\s*,\s*([-+.\deE]+)\s*\)/g)) {
    const w = Number(m[1]);
    const h = Number(m[2]);
    if (!(w > 0 && h > 0)) return null;
    out.push([w, h]);
  }
  return out;
}

function readAnchors(r: SpecReader, top: SpecMessage, block: { name: string; msg: SpecMessage }, network: Network | null): SpecSummary['anchors'] {
  if (!isYolo(network)) return null;
  const group = (scale: 'big' | 'mid' | 'small'): number[][] => {
    const field = `${scale}_anchor_shape`;
    const text = r.str(block.msg, field, `${block.name}.${field}`);
    if (text === undefined) return [];
    const a = parseAnchors(text);
    if (a === null) {
      r.warn(posOf(block.msg, field), `${block.name}.${field} is not a list of (width, height) pairs: ignored (the exported model carries its anchors)`);
      return [];
    }
    return a;
  };
  const anchors = { big: group('big'), mid: group('mid'), small: group('small') };
  // yolo_v4/utils/spec_loader.py: cspdarknet_tiny has no small anchors; every other YOLOv4 arch
  // (cspdarknet_tiny_3l included) needs all three groups.
  const arch = r.str(block.msg, 'arch', `${block.name}.arch`);
  if (block.name === 'yolov4_config' && arch === 'cspdarknet_tiny') {
    if (anchors.small.length > 0) r.warn(posOf(block.msg, 'small_anchor_shape'), `${block.name}.small_anchor_shape is not supported by cspdarknet_tiny (TAO refuses it)`);
  } else if (block.name === 'yolov4_config') {
    // YOLOv3's anchors are optional (yolov3_config.proto); YOLOv4's are not.
    const missing = (['big', 'mid', 'small'] as const).filter((k) => anchors[k].length === 0).map((k) => `${k}_anchor_shape`);
    if (missing.length) r.warn(posOf(top, block.name), `${block.name} lacks ${missing.join(', ')} (TAO requires all three groups for ${arch ?? 'this arch'})`);
  }
  return anchors;
}

/**
 * Runs `derive`. Without a command-line value its errors stand; with one, a spec problem
 * there becomes a warning (the value replaces the spec's) and the result is undefined.
 */
function specOrOverride<T>(r: SpecReader, flag: string | undefined, derive: () => T): T | undefined {
  if (flag === undefined) return derive();
  try {
    return derive();
  } catch (err) {
    if (!(err instanceof AgentError) || err.code !== 'SPEC_INVALID') throw err;
    const d = err.details as { line?: number; col?: number; problem?: string } | undefined;
    r.warn(d?.line ? { line: d.line, col: d.col ?? 0 } : undefined, `${d?.problem ?? err.message}: not used, ${flag} was given`);
    return undefined;
  }
}

export function deriveFromSpec(rootMsg: SpecMessage, file = 'spec', opts: DeriveOptions = {}): SpecSummary {
  const r = new SpecReader(file, opts.flags);
  const block = networkBlock(r, rootMsg);
  const arch = block ? (r.str(block.msg, 'arch', `${block.name}.arch`) ?? null) : null;
  const nlayers = block ? (r.int(block.msg, 'nlayers', `${block.name}.nlayers`) ?? null) : null;
  const network = networkOf(rootMsg, block?.name, arch);
  const yolo = isYolo(network);
  if (yolo) r.warnings.push(...checkSpecFields(rootMsg, file));

  const aug = specMessage(rootMsg, 'augmentation_config');
  const overridden: string[] = [];
  const dims = opts.overrides?.dims;
  const inputFlag = r.flags.input ?? '--input';
  const s = specOrOverride(r, dims ? inputFlag : undefined, () => readSize(r, aug, yolo));
  const channels: 1 | 3 = dims ? (dims.c === 1 ? 1 : 3) : (s?.channels ?? 3);
  const height = dims?.h ?? s?.height ?? 0;
  const width = dims?.w ?? s?.width ?? 0;
  if (dims) {
    overridden.push('input');
    const sp = s;
    if (sp && (sp.channels !== dims.c || sp.height !== dims.h || sp.width !== dims.w)) {
      r.warn(posOf(aug, sp.layout === 'tlt2' ? 'preprocessing' : 'output_width'), `the spec's input ${sp.channels},${sp.height},${sp.width} is replaced by ${inputFlag} ${dims.c},${dims.h},${dims.w}`);
    }
  }
  const depth = readDepth(r, aug, channels);
  const mean = readMean(r, aug, channels, depth);

  const given = opts.overrides?.classes?.length ? opts.overrides.classes : undefined;
  const cls = specOrOverride(r, given ? (r.flags.classes ?? '--classes') : undefined, () => readClasses(r, rootMsg)) ?? { classes: [], exporterNumClasses: given?.length ?? 0 };
  let classes = cls.classes;
  if (given) {
    overridden.push('classes');
    if (cls.classes.length > 0 && cls.classes.join('\n') !== given.join('\n')) {
      const count = cls.classes.length !== given.length ? ` (${given.length} instead of the spec's ${cls.classes.length}: the model's class count must match)` : '';
      r.warn(posOf(specMessage(rootMsg, 'dataset_config'), 'target_class_mapping'), `the spec's classes [${cls.classes.join(', ')}] are replaced by ${r.flags.classes ?? '--classes'} [${given.join(', ')}]${count}`);
    }
    classes = [...given];
  }
  if (yolo && cls.exporterNumClasses !== cls.classes.length) {
    r.warn(posOf(rootMsg, 'dataset_config'), `tao export counts ${cls.exporterNumClasses} classes for BatchedNMS numClasses (case kept) but training used ${cls.classes.length}`);
  }

  const nms = readNms(r, rootMsg, cls.exporterNumClasses, yolo);
  const anchors = block ? readAnchors(r, rootMsg, block, network) : null;
  return {
    layout: s?.layout ?? null,
    network,
    arch,
    nlayers,
    input: {
      name: network ? INPUT_NAMES[network] : 'Input',
      channels,
      height,
      width,
      depth,
      colorOrder: channels === 3 ? 'bgr' : 'gray',
      mean,
    },
    classes,
    nms: nms?.nms ?? null,
    nmsPlugin: yolo ? (nms?.plugin ?? null) : null,
    anchors,
    outputs: network ? [...OUTPUT_NODES[network]] : null,
    dims: `${channels},${height},${width}`,
    overridden,
    warnings: r.warnings,
  };
}
