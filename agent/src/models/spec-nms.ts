import { specMessage, type SpecMessage } from './spec-parse.js';
import { posOf, type SpecReader } from './spec-read.js';

/**
 * nms_config (common/proto/nms_config.proto) and the BatchedNMS attributes TAO's exporter
 * derives from it (yolov3_exporter.py / yolov4_exporter.py process_nms_node;
 * docs/reference/tao-specs.md §7). Pure.
 */
export interface SpecNms {
  readonly confidenceThreshold: number;
  readonly iouThreshold: number;
  /** nms_config.top_k: detections kept per image (the plugin's keepTopK). */
  readonly topK: number;
}

/** What tao export writes on the BatchedNMSDynamic_TRT node, attribute by attribute. */
export interface ExportedNmsAttributes {
  readonly shareLocation: 1;
  readonly backgroundLabelId: -1;
  readonly numClasses: number;
  readonly topK: number;
  readonly keepTopK: number;
  readonly scoreThreshold: number;
  readonly iouThreshold: number;
  readonly clipBoxes: 1;
  readonly isNormalized: 1;
  /** infer_nms_score_bits; 0 (absent) and values outside 1…10 mean full precision in the plugin. */
  readonly scoreBits: number;
}

export interface SpecNmsResult {
  readonly nms: SpecNms;
  readonly plugin: ExportedNmsAttributes;
  /** nms_config.force_on_cpu: declared, not read by TAO's YOLO code nor exported (docs/reference/tao-specs.md §7). */
  readonly forceOnCpu: boolean | null;
}

/** BatchedNMS refuses more than 4096 candidates (TensorRT plugin/batchedNMSPlugin/README.md "topK"). */
export const PLUGIN_MAX_TOPK = 4096;

export function readNms(r: SpecReader, root: SpecMessage, numClasses: number, yolo: boolean): SpecNmsResult | null {
  const m = specMessage(root, 'nms_config');
  if (!m) {
    if (yolo) r.warn(undefined, 'nms_config is absent (TAO requires it): the manifest uses the agent defaults (confidence 0.3, IoU 0.5, top_k 200)');
    return null;
  }
  const at = posOf(root, 'nms_config');
  const P = 'nms_config';
  let conf = r.num(m, 'confidence_threshold', `${P}.confidence_threshold`);
  if (conf === undefined) {
    r.warn(at, `${P}.confidence_threshold is absent: protobuf reads 0, so the exported model keeps every box`);
    conf = 0;
  }
  if (conf < 0 || conf > 1) throw r.invalid(`${P}.confidence_threshold must be within [0, 1], got ${conf}`, posOf(m, 'confidence_threshold'));
  const iou = r.num(m, 'clustering_iou_threshold', `${P}.clustering_iou_threshold`);
  // yolo_v3|yolo_v4/utils/spec_loader.py: "clustering_iou_threshold must be within (0, 1]".
  if (iou === undefined || iou <= 0 || iou > 1) {
    throw r.invalid(iou === undefined ? `${P} needs clustering_iou_threshold, within (0, 1]` : `${P}.clustering_iou_threshold must be within (0, 1], got ${iou}`, posOf(m, 'clustering_iou_threshold') ?? at);
  }
  const topK = r.int(m, 'top_k', `${P}.top_k`) ?? 0;
  if (topK < 1) throw r.invalid(topK === 0 ? `${P} needs top_k ≥ 1 (absent or 0: the exported model would keep no detection)` : `${P}.top_k must be at least 1, got ${topK}`, posOf(m, 'top_k') ?? at);
  if (topK > PLUGIN_MAX_TOPK) throw r.invalid(`${P}.top_k ${topK} is above ${PLUGIN_MAX_TOPK}, the most BatchedNMS can keep`, posOf(m, 'top_k'));
  if (2 * topK > PLUGIN_MAX_TOPK) {
    r.warn(posOf(m, 'top_k'), `${P}.top_k ${topK}: tao export sets the plugin's topK to ${2 * topK}, above the ${PLUGIN_MAX_TOPK} BatchedNMS accepts; the engine build will fail`);
  }
  const bits = r.int(m, 'infer_nms_score_bits', `${P}.infer_nms_score_bits`) ?? 0;
  if (bits < 0) throw r.invalid(`${P}.infer_nms_score_bits must not be negative, got ${bits}`, posOf(m, 'infer_nms_score_bits'));
  const forceOnCpu = r.bool(m, 'force_on_cpu', `${P}.force_on_cpu`) ?? null;
  return {
    nms: { confidenceThreshold: conf, iouThreshold: iou, topK },
    plugin: {
      shareLocation: 1,
      backgroundLabelId: -1,
      numClasses,
      topK: 2 * topK,
      keepTopK: topK,
      scoreThreshold: conf,
      iouThreshold: iou,
      clipBoxes: 1,
      isNormalized: 1,
      scoreBits: bits,
    },
    forceOnCpu,
  };
}
