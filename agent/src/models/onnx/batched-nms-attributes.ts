import { AgentError } from '../../core/errors.js';
import type { NmsAttributes } from '../../core/contracts/model.js';
import { AttrType, int64, type Attribute } from './onnx-proto.js';

/**
 * The attributes of a `BatchedNMS_TRT` / `BatchedNMSDynamic_TRT` node, read the way TensorRT
 * OSS's plugin creator reads them, and refused at intake where the real plugin would refuse the
 * model or silently find nothing on a Jetson (docs/reference/batched-nms.md). Creator:
 * https://github.com/NVIDIA/TensorRT/blob/release/10.16/plugin/batchedNMSPlugin/batchedNMSPlugin.cpp
 * L666-L758 (BatchedNMS_TRT) and L760-L853 (BatchedNMSDynamic_TRT, what TAO exports). Pure.
 */

/** The creator's required fields: a model without one fails to build (batchedNMSPlugin.cpp L679-L688). */
const REQUIRED_INT = ['shareLocation', 'backgroundLabelId', 'numClasses', 'topK', 'keepTopK'] as const;
const REQUIRED_FLOAT = ['scoreThreshold', 'iouThreshold'] as const;
const OPTIONAL_INT = ['isNormalized', 'clipBoxes', 'scoreBits', 'caffeSemantics'] as const;

/** checkParams caps topK at 512 threads × 8 blocks of the NMS kernel (batchedNMSPlugin.cpp L54-L66). */
export const MAX_TOP_K = 512 * 8;

const invalid = (msg: string, hint: string): AgentError => new AgentError('NMS_ATTRIBUTES_INVALID', msg, { hint });

/** An attribute's kind; files from old exporters may leave `type` unset and only fill the value. */
function kindOf(a: Attribute): number | undefined {
  if (a.type) return a.type;
  if (Object.hasOwn(a, 'f')) return AttrType.FLOAT;
  if (Object.hasOwn(a, 'i')) return AttrType.INT;
  return undefined;
}

export function readBatchedNmsAttributes(list: readonly Attribute[], op: string): NmsAttributes {
  const byName = new Map(list.map((a) => [a.name, a]));
  const reExport = 'Re-export the model with TAO (its exporter writes every BatchedNMS attribute), then run `jetson-fleet package create` again.';
  for (const name of [...REQUIRED_INT, ...REQUIRED_FLOAT]) {
    if (!byName.has(name)) throw invalid(`The ${op} node lacks the required "${name}" attribute; TensorRT's plugin refuses to build it.`, reExport);
  }
  // The TensorRT ONNX parser hands INT attributes over as kINT32 fields and FLOAT ones as
  // kFLOAT32; the creator validates the type of most fields and reads the others' raw bytes
  // (batchedNMSPlugin.cpp L693-L743), so a float where an int belongs is refused here.
  const int = (name: string, fallback: number): number => {
    const a = byName.get(name);
    if (a === undefined) return fallback;
    if (kindOf(a) !== AttrType.INT) throw invalid(`The ${op} attribute "${name}" is not an integer attribute; the plugin reads it as int32.`, reExport);
    return int64(a.i);
  };
  const float = (name: string): number => {
    const a = byName.get(name)!;
    if (kindOf(a) !== AttrType.FLOAT) throw invalid(`The ${op} attribute "${name}" is not a float attribute; the plugin requires kFLOAT32.`, reExport);
    return a.f ?? 0;
  };
  // Booleans are read as `*(bool const*)` of the int32 field (batchedNMSPlugin.cpp L695, L729,
  // L733, L742): its first byte on the little-endian Jetson CPUs.
  const bool = (name: string, fallback: boolean): boolean => (byName.has(name) ? (int(name, 0) & 0xff) !== 0 : fallback);
  for (const name of OPTIONAL_INT) int(name, 0); // type check every optional one present

  const a: NmsAttributes = {
    shareLocation: bool('shareLocation', true),
    backgroundLabelId: int('backgroundLabelId', -1),
    numClasses: int('numClasses', 0),
    topK: int('topK', 0),
    keepTopK: int('keepTopK', 0),
    scoreThreshold: float('scoreThreshold'),
    iouThreshold: float('iouThreshold'),
    // NMSParameters::isNormalized "Defaults to false" (include/NvInferPluginUtils.h L197-L198 of
    // release/10.16); the creator leaves it unset when the attribute is absent.
    isNormalized: bool('isNormalized', false),
    // Creator defaults: clipBoxes true, scoreBits 16, caffeSemantics true (batchedNMSPlugin.cpp L675-L677).
    clipBoxes: bool('clipBoxes', true),
    scoreBits: int('scoreBits', 16),
    caffeSemantics: bool('caffeSemantics', true),
  };
  checkBatchedNmsAttributes(a, op);
  return a;
}

/**
 * Refuses what builds on a Jetson but is wrong there: topK over the kernel's limit fails the
 * engine build (checkParams), keepTopK > topK builds and returns zero detections for every image
 * (gatherNMSOutputs.cu L59-L60), and a non-positive size cannot launch the kernels.
 */
export function checkBatchedNmsAttributes(a: NmsAttributes, op: string): void {
  const fix = (what: string): string => `${what}, then run \`jetson-fleet package create\` again.`;
  if (a.topK > MAX_TOP_K) {
    throw invalid(`The ${op} node has topK ${a.topK}; TensorRT's BatchedNMS plugin refuses topK above ${MAX_TOP_K}.`, fix('Re-export with nms_config top_k ≤ 2048 (TAO writes topK = 2 × top_k)'));
  }
  if (a.keepTopK > a.topK) {
    throw invalid(
      `The ${op} node has keepTopK ${a.keepTopK} > topK ${a.topK}; TensorRT's BatchedNMS plugin then returns zero detections for every image.`,
      fix('Re-export so that keepTopK ≤ topK (TAO writes topK = 2 × top_k, keepTopK = top_k)'),
    );
  }
  if (a.topK < 1 || a.keepTopK < 1 || a.numClasses < 1) {
    throw invalid(`The ${op} node has topK ${a.topK}, keepTopK ${a.keepTopK}, numClasses ${a.numClasses}; each must be at least 1.`, fix('Re-export the model with a valid nms_config'));
  }
}
