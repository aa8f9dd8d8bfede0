import { AgentError, UsageError } from '../../core/errors.js';
import type { ModelManifest } from '../../core/contracts/model.js';
import { formatTensor, type OnnxSignature } from '../onnx/signature.js';
import { KNOWN_FAMILIES, type FamilyMatch } from './detect.js';
import { FAMILY_DEFAULTS, type Profile } from './profiles.js';

/**
 * The model.json fields an ONNX graph decides (family, decode, outputs, input name/size/dtype,
 * signature) merged with the family's upstream profile and thresholds and the flags that
 * override them. Pure; refusals carry codes (docs/errors.md).
 */
export interface ProfileFlags extends Partial<Profile> {
  readonly colorOrder?: 'rgb' | 'bgr' | 'gray';
}

export interface ThresholdFlags {
  readonly confidenceThreshold?: number;
  readonly iouThreshold?: number;
  readonly maxDetections?: number;
  /** Class filter: labels to return. */
  readonly only?: readonly string[];
}

export function familyUnknown(sig: OnnxSignature, asked: string | undefined): AgentError {
  const outs = sig.outputs.map(formatTensor).join('; ');
  const ins = sig.inputs.map(formatTensor).join('; ');
  return new AgentError(
    'MODEL_FAMILY_UNKNOWN',
    asked
      ? `The graph does not have the outputs of the ${asked} family: inputs ${ins}; outputs ${outs}.`
      : `The graph matches no detector family this agent knows: inputs ${ins}; outputs ${outs}. Known families: ${KNOWN_FAMILIES}.`,
    {
      hint: asked
        ? `Check the export (docs/models.md "Families" lists each family's outputs), or drop --family to let the agent detect it.`
        : `If it is one of them, pass --family NAME (docs/models.md "Families"); otherwise export the detector with one of those output layouts.`,
      details: { outputs: sig.outputs, inputs: sig.inputs },
    },
  );
}

/**
 * Refuses, at package create, an input size or channel count from the spec or flags that the
 * graph contradicts (activation would fail later with a shape error from the runtime).
 */
export function checkInputAgrees(match: FamilyMatch, dims: { c: number; h: number; w: number } | undefined, source: string): void {
  if (!dims) return;
  const [, c, h, w] = match.input.shape;
  const diff: string[] = [];
  if (c !== undefined && c > 0 && c !== dims.c) diff.push(`channels ${dims.c} vs ${c}`);
  if (h !== undefined && h > 0 && h !== dims.h) diff.push(`height ${dims.h} vs ${h}`);
  if (w !== undefined && w > 0 && w !== dims.w) diff.push(`width ${dims.w} vs ${w}`);
  if (diff.length > 0) {
    throw new AgentError('MODEL_INPUT_MISMATCH', `${source} gives the input as ${dims.c}x${dims.h}x${dims.w}, but the graph's input ${formatTensor(match.input)} disagrees (${diff.join(', ')}).`, {
      hint: `Fix ${source} to ${c ?? '?'},${h ?? '?'},${w ?? '?'} (or leave it out: the graph's size is used), then run \`jetson-fleet package create\` again.`,
    });
  }
}

export interface GraphManifestInputs {
  readonly match: FamilyMatch;
  readonly sig: OnnxSignature;
  readonly dims?: { c: number; h: number; w: number };
  readonly classes?: readonly string[];
  readonly profile?: ProfileFlags;
  readonly thresholds?: ThresholdFlags;
}

/** The network/input/outputs/classes/nms/family/decode part of model.json for a non-TAO ONNX detector. */
export function graphManifestFields(g: GraphManifestInputs): Pick<ModelManifest, 'network' | 'input' | 'outputs' | 'classes' | 'nms' | 'family' | 'decode' | 'signature'> & { extraInputs?: ModelManifest['extraInputs'] } {
  const { match } = g;
  const d = FAMILY_DEFAULTS[match.family];
  const c = match.input.shape[1] !== undefined && match.input.shape[1] > 0 ? match.input.shape[1] : (g.dims?.c ?? 3);
  const h = match.height ?? g.dims?.h;
  const w = match.width ?? g.dims?.w;
  if (!h || !w) {
    throw new UsageError(`The graph's input ${formatTensor(match.input)} has a symbolic height or width and no imgsz metadata.`, 'Pass --input C,H,W with the size the model was exported for.');
  }
  if (c !== 1 && c !== 3) throw new AgentError('MODEL_INPUT_MISMATCH', `The graph's input ${formatTensor(match.input)} has ${c} channels; 1 or 3 are supported.`, { hint: 'Export the detector with an NCHW image input.' });
  const classes = g.classes && g.classes.length > 0 ? [...g.classes] : match.classNames ? [...match.classNames] : null;
  if (!classes) {
    throw new UsageError(
      `The graph carries no class names (no Ultralytics "names" metadata)${match.numClasses ? `; it has ${match.numClasses} classes` : ''}.`,
      'Pass --classes a,b,c or --labels FILE (one name a line, in class-id order).',
    );
  }
  if (match.numClasses !== null && classes.length !== match.numClasses) {
    const first = g.sig.outputs.find((o) => o.name === match.outputs[0]);
    throw new UsageError(`${classes.length} class names for a graph with ${match.numClasses} classes${first ? ` (output ${formatTensor(first)})` : ''}.`, 'Give exactly one name per class, in class-id order.');
  }
  const p = { ...d.profile, ...stripUndefined(g.profile ?? {}) };
  const mean = c === 1 ? [p.mean[0] ?? 0] : p.mean;
  const std = p.std ? (c === 1 ? [p.std[0] ?? 1] : p.std) : undefined;
  const dtype = match.input.datatype === 'FP16' ? 'float16' : 'float32';
  if (match.input.datatype !== 'FP32' && match.input.datatype !== 'FP16') {
    throw new AgentError('MODEL_INPUT_MISMATCH', `The graph's image input is ${match.input.datatype}; float32 and float16 inputs are supported.`, { hint: 'Export with a float image input (int8 quantised graphs keep a float32 input).' });
  }
  const t = g.thresholds ?? {};
  const only = t.only?.filter((n) => !classes.includes(n));
  if (only && only.length > 0) throw new UsageError(`--only-classes names labels the model does not have: ${only.join(', ')}.`, `Use names from: ${classes.join(', ')}.`);
  return {
    network: 'onnx',
    family: match.family,
    decode: match.decode,
    ...(match.shapeInput ? { extraInputs: [{ name: match.shapeInput, value: 'input-hw' as const, dtype: 'float32' as const }] } : {}),
    signature: { inputs: [...g.sig.inputs], outputs: [...g.sig.outputs] },
    input: {
      name: match.input.name,
      channels: c,
      height: h,
      width: w,
      colorOrder: c === 1 ? 'gray' : p.colorOrder === 'gray' ? 'rgb' : p.colorOrder,
      mean,
      scale: p.scale,
      resize: p.resize,
      ...(std ? { std } : {}),
      ...(p.pad !== undefined ? { pad: p.pad } : {}),
      ...(p.resample ? { resample: p.resample } : {}),
      ...(p.sizeRounding ? { sizeRounding: p.sizeRounding } : {}),
      ...(dtype === 'float16' ? { dtype } : {}),
      ...(match.dynamicBatch ? { dynamicBatch: true } : {}),
    },
    outputs: [...match.outputs],
    classes,
    nms: {
      confidenceThreshold: t.confidenceThreshold ?? d.confidenceThreshold,
      iouThreshold: t.iouThreshold ?? d.iouThreshold,
      topK: 200,
      maxDetections: t.maxDetections ?? d.maxDetections,
      ...(t.only && t.only.length > 0 ? { classes: [...t.only] } : {}),
    },
  };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
