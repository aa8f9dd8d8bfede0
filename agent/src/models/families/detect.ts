import { DETECTOR_FAMILIES, type DecodeParamsT, type DetectorFamilyName, type TensorInfoT } from '../../core/contracts/detector.js';
import type { OnnxSignature } from '../onnx/signature.js';
import { parseUltralyticsMeta, type UltralyticsMeta } from './ultralytics-meta.js';

/**
 * Which detector family an ONNX graph is, from its inputs, outputs, operators and
 * metadata_props (docs/reference/model-families.md has the layouts). Pure. The result says what
 * the package manifest records: family, decode parameters, the output order the decoder reads,
 * the image input, the class count the graph implies, and class names where the graph has them.
 */
export interface FamilyMatch {
  readonly family: DetectorFamilyName;
  /** One line: what in the graph gave the family away. */
  readonly why: string;
  readonly decode: DecodeParamsT;
  /** Graph output names in decoder order. */
  readonly outputs: readonly string[];
  readonly input: TensorInfoT;
  /** Classes the output shapes imply (null: the graph does not say). */
  readonly numClasses: number | null;
  readonly classNames: readonly string[] | null;
  /** Input size from the graph, or from Ultralytics' imgsz when the graph's is symbolic. */
  readonly height: number | null;
  readonly width: number | null;
  readonly dynamicBatch: boolean;
  /** A second graph input fed the network size (ONNX NonMaxSuppression graphs' image_shape). */
  readonly shapeInput: string | null;
}

const KNOWN = DETECTOR_FAMILIES.join(', ');
export { KNOWN as KNOWN_FAMILIES };

const dim = (t: TensorInfoT | undefined, i: number): number => t?.shape[i] ?? -1;
const byName = (sig: OnnxSignature, re: RegExp): TensorInfoT | undefined => sig.outputs.find((o) => re.test(o.name));

/** The image input: the 4-D one (NCHW). */
function imageInput(sig: OnnxSignature): TensorInfoT | undefined {
  return sig.inputs.find((i) => i.shape.length === 4) ?? sig.inputs[0];
}

/** Grid cells over strides 8/16/32 (YOLOX, YOLOv8); YOLOv5 has 3 anchors per cell. */
const cells = (h: number, w: number, strides: readonly number[]): number => strides.reduce((n, s) => n + Math.floor(h / s) * Math.floor(w / s), 0);

interface Ctx {
  readonly sig: OnnxSignature;
  readonly input: TensorInfoT;
  readonly h: number;
  readonly w: number;
  readonly meta: UltralyticsMeta | null;
}

type Matcher = (c: Ctx) => Omit<FamilyMatch, 'family' | 'input' | 'height' | 'width' | 'dynamicBatch' | 'classNames'> & { classNames?: readonly string[] | null } | null;

const MATCHERS: Readonly<Record<DetectorFamilyName, Matcher>> = {
  'tao-batched-nms': ({ sig }) => {
    if (sig.ops.has('BatchedNMS_TRT') || sig.ops.has('BatchedNMSDynamic_TRT')) {
      return { why: 'a BatchedNMS_TRT/BatchedNMSDynamic_TRT node (TAO YOLOv3/v4)', decode: {}, outputs: sig.outputs.map((o) => o.name), numClasses: null, shapeInput: null };
    }
    const names = ['BatchedNMS', 'BatchedNMS_1', 'BatchedNMS_2', 'BatchedNMS_3'];
    if (names.every((n) => sig.outputs.some((o) => o.name === n))) {
      return { why: 'outputs BatchedNMS, BatchedNMS_1..3', decode: {}, outputs: names, numClasses: null, shapeInput: null };
    }
    return null;
  },
  'efficient-nms': ({ sig }) => {
    const sets = [
      ['num_detections', 'detection_boxes', 'detection_scores', 'detection_classes'],
      ['num_dets', 'det_boxes', 'det_scores', 'det_classes'],
    ];
    const names = sets.find((s) => s.every((n) => sig.outputs.some((o) => o.name === n)));
    if (!names && !sig.ops.has('EfficientNMS_TRT')) return null;
    const outs = names ?? sig.outputs.map((o) => o.name);
    return { why: names ? `outputs ${names.join(', ')} (EfficientNMS_TRT layout)` : 'an EfficientNMS_TRT node', decode: {}, outputs: outs, numClasses: null, shapeInput: null };
  },
  'onnx-nms': ({ sig, input }) => {
    if (!sig.ops.has('NonMaxSuppression')) return null;
    const sel = sig.outputs.find((o) => o.shape.length === 2 && dim(o, 1) === 3 && (o.datatype === 'INT64' || o.datatype === 'INT32'));
    const boxes = sig.outputs.find((o) => o !== sel && o.shape.length === 3 && dim(o, 2) === 4);
    const scores = sig.outputs.find((o) => o !== sel && o !== boxes && o.shape.length === 3);
    if (!sel || !boxes || !scores) return null;
    const shape = sig.inputs.find((i) => i !== input && i.shape.length === 2 && dim(i, 1) === 2);
    return {
      why: 'a NonMaxSuppression node with boxes, scores and selected_indices [M,3] outputs',
      decode: { boxOrder: 'yxyx' },
      outputs: [boxes.name, scores.name, sel.name],
      numClasses: dim(scores, 1) > 0 ? dim(scores, 1) : null,
      shapeInput: shape?.name ?? null,
    };
  },
  detr: ({ sig }) => {
    const logits = byName(sig, /(^|[/_])pred_logits$|^logits$/);
    const boxes = byName(sig, /(^|[/_])pred_boxes$|^boxes$/);
    if (!logits || !boxes || logits.shape.length !== 3 || dim(boxes, 2) !== 4) return null;
    return { why: 'outputs pred_logits [B,Q,C] and pred_boxes [B,Q,4] (DETR family)', decode: { scoreActivation: 'sigmoid' }, outputs: [logits.name, boxes.name], numClasses: dim(logits, 2) > 0 ? dim(logits, 2) : null, shapeInput: null };
  },
  'detectnet-v2': ({ sig, h }) => {
    const cov = byName(sig, /output_cov/);
    const bbox = byName(sig, /output_bbox/);
    if (!cov || !bbox || cov.shape.length !== 4 || bbox.shape.length !== 4) return null;
    const C = dim(cov, 1);
    if (C > 0 && dim(bbox, 1) !== 4 * C) return null;
    const stride = h > 0 && dim(cov, 2) > 0 ? Math.round(h / dim(cov, 2)) : 16;
    return { why: 'outputs output_cov [B,C,H/16,W/16] and output_bbox [B,4C,…] (TAO DetectNet_v2)', decode: { gridStride: stride, bboxNorm: 35, gridOffset: 0.5, cluster: 'nms' }, outputs: [cov.name, bbox.name], numClasses: C > 0 ? C : null, shapeInput: null };
  },
  'yolo-end2end': ({ sig, meta }) => {
    const o = sig.outputs.length === 1 ? sig.outputs[0] : undefined;
    if (!o || o.shape.length !== 3 || dim(o, 2) !== 6 || dim(o, 1) > 1000) return null;
    return { why: `one output [B,${dim(o, 1)},6] (x1 y1 x2 y2 score class: YOLO26/YOLOv10 end-to-end)`, decode: {}, outputs: [o.name], numClasses: meta?.names?.length ?? null, shapeInput: null };
  },
  yolov8: ({ sig, h, w }) => {
    const o = sig.outputs.length === 1 ? sig.outputs[0] : undefined;
    if (!o || o.shape.length !== 3 || h <= 0 || w <= 0) return null;
    const n = cells(h, w, [8, 16, 32]);
    if (dim(o, 2) !== n || dim(o, 1) < 5) return null;
    return { why: `one output [B,4+nc,${n}] (channel-major, no objectness: YOLOv8/YOLO11)`, decode: {}, outputs: [o.name], numClasses: dim(o, 1) - 4, shapeInput: null };
  },
  yolov5: ({ sig, h, w }) => {
    const o = sig.outputs.length === 1 ? sig.outputs[0] : undefined;
    if (!o || o.shape.length !== 3 || h <= 0 || w <= 0) return null;
    const n = 3 * cells(h, w, [8, 16, 32]);
    if (dim(o, 1) !== n || dim(o, 2) < 6) return null;
    return { why: `one output [B,${n},5+nc] (3 anchors per cell of strides 8/16/32, objectness: YOLOv5)`, decode: {}, outputs: [o.name], numClasses: dim(o, 2) - 5, shapeInput: null };
  },
  yolox: ({ sig, h, w }) => {
    const o = sig.outputs.length === 1 ? sig.outputs[0] : undefined;
    if (!o || o.shape.length !== 3 || h <= 0 || w <= 0) return null;
    const n = cells(h, w, [8, 16, 32]);
    if (dim(o, 1) !== n || dim(o, 2) < 6) return null;
    return { why: `one output [B,${n},5+nc] (one row per cell of strides 8/16/32, not decoded: YOLOX)`, decode: { strides: [8, 16, 32], classAgnostic: true }, outputs: [o.name], numClasses: dim(o, 2) - 5, shapeInput: null };
  },
};

/** Matching order: graph-internal NMS first, then named layouts, then shape-only ones. */
const ORDER: readonly DetectorFamilyName[] = ['tao-batched-nms', 'efficient-nms', 'onnx-nms', 'detr', 'detectnet-v2', 'yolo-end2end', 'yolov8', 'yolov5', 'yolox'];

/**
 * @param only  `--family`: match only this family (its decode parameters still come from the graph).
 * @param size  `--input` H and W, for graphs whose input size is symbolic.
 */
export function detectFamily(sig: OnnxSignature, only?: DetectorFamilyName, size?: { h: number; w: number }): FamilyMatch | null {
  const input = imageInput(sig);
  if (!input) return null;
  const meta = parseUltralyticsMeta(sig.metadata);
  const h = dim(input, 2) > 0 ? dim(input, 2) : (size?.h ?? meta?.imgsz?.[0] ?? -1);
  const w = dim(input, 3) > 0 ? dim(input, 3) : (size?.w ?? meta?.imgsz?.[1] ?? -1);
  for (const family of only ? [only] : ORDER) {
    const m = MATCHERS[family]({ sig, input, h, w, meta });
    if (!m) continue;
    return {
      ...m,
      family,
      input,
      height: h > 0 ? h : null,
      width: w > 0 ? w : null,
      dynamicBatch: dim(input, 0) < 0,
      classNames: m.classNames ?? meta?.names ?? null,
    };
  }
  return null;
}
