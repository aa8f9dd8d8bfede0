import { Type, type Static } from '@sinclair/typebox';
import { ConstantInput, DecodeParams, DetectorFamily, TensorInfo } from './detector.js';

/**
 * `model.json` at the root of a model package (issue #4 §1). Produced by
 * `jetson-fleet package create`, validated at intake (models/), read by conversion
 * (convert/) and by the inference service (inference/) for pre/post-processing.
 * Schema version 1. Facts: docs/reference/yolov3-io.md "Node names" (nodes), "Input tensor" and "Preprocessing" (input contract), "BatchedNMS outputs".
 */
export const MODEL_SCHEMA_VERSION = 1;

export const NetworkType = Type.Union(
  [Type.Literal('yolov3'), Type.Literal('yolov4'), Type.Literal('yolov4-tiny'), Type.Literal('ssd'), Type.Literal('detectnet_v2')],
  { description: 'Network family; decides output nodes and post-processing.' },
);

export const ModelInput = Type.Object(
  {
    name: Type.String({ default: 'Input', minLength: 1 }),
    channels: Type.Union([Type.Literal(1), Type.Literal(3)], { default: 3 }),
    height: Type.Integer({ minimum: 1, maximum: 8192 }),
    width: Type.Integer({ minimum: 1, maximum: 8192 }),
    /** TAO YOLOv3 is BGR (docs/reference/yolov3-io.md "Preprocessing"). */
    colorOrder: Type.Union([Type.Literal('bgr'), Type.Literal('rgb'), Type.Literal('gray')], { default: 'bgr' }),
    /** Per-channel mean in the tensor's channel order (B, G, R for bgr): 103.939, 116.779, 123.68. */
    mean: Type.Array(Type.Number(), { minItems: 1, maxItems: 3, default: [103.939, 116.779, 123.68] }),
    /** y = (x − mean) · scale; TAO YOLOv3 uses 1.0 (no /255). */
    scale: Type.Number({ default: 1, exclusiveMinimum: 0 }),
    /** How the image is fitted to the network size (docs/reference/yolov3-io.md "Letterbox variants"). */
    resize: Type.Union([Type.Literal('letterbox-center'), Type.Literal('letterbox-topleft'), Type.Literal('stretch')], {
      default: 'letterbox-center',
    }),
    /** Per-channel divisor after the mean: y = (x − mean) · scale / std (DETR: ImageNet std × 255). */
    std: Type.Optional(Type.Array(Type.Number({ exclusiveMinimum: 0 }), { minItems: 1, maxItems: 3 })),
    /** Letterbox pad as a pixel value before normalisation (Ultralytics, YOLOX: 114); absent = the mean (0 after it). */
    pad: Type.Optional(Type.Number({ minimum: 0, maximum: 255 })),
    /** Input tensor element type: float16 graphs take half-float bits. */
    dtype: Type.Optional(Type.Union([Type.Literal('float32'), Type.Literal('float16')])),
    /** Resize arithmetic: libvips' linear (default) or OpenCV INTER_LINEAR's (half-pixel centres, 11-bit weights). */
    resample: Type.Optional(Type.Union([Type.Literal('libvips-linear'), Type.Literal('opencv-linear')])),
    /** Resized size from ratio·size: round (TAO, Ultralytics) or floor (YOLOX's int()). */
    sizeRounding: Type.Optional(Type.Union([Type.Literal('round'), Type.Literal('floor')])),
    /** The graph's batch dimension is symbolic (trtexec then gets --minShapes/--optShapes/--maxShapes). */
    dynamicBatch: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export const NmsConfig = Type.Object(
  {
    confidenceThreshold: Type.Number({ minimum: 0, maximum: 1, default: 0.3 }),
    iouThreshold: Type.Number({ minimum: 0, maximum: 1, default: 0.5 }),
    topK: Type.Integer({ minimum: 1, maximum: 4096, default: 200 }),
    /** Detections returned per image unless the request asks otherwise (default inference.maxDetections). */
    maxDetections: Type.Optional(Type.Integer({ minimum: 1, maximum: 4096 })),
    /** Only these labels are returned (class filter); absent = all. */
    classes: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })),
  },
  { additionalProperties: false },
);

export const GoldenCase = Type.Object(
  {
    image: Type.String({ minLength: 1, description: 'Path inside the package.' }),
    detections: Type.Array(
      Type.Object(
        {
          classId: Type.Integer({ minimum: 0 }),
          score: Type.Number({ minimum: 0, maximum: 1 }),
          box: Type.Object({ x1: Type.Number(), y1: Type.Number(), x2: Type.Number(), y2: Type.Number() }, { additionalProperties: false }),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

export const ModelManifestSchema = Type.Object(
  {
    schemaVersion: Type.Literal(MODEL_SCHEMA_VERSION),
    name: Type.String({ pattern: '^[a-z0-9._-]+$', minLength: 1, maxLength: 100 }),
    version: Type.String({ pattern: '^[A-Za-z0-9._+-]+$', minLength: 1, maxLength: 64 }),
    /** `onnx`: an ONNX detector of the family in `family` (not a TAO TLT network). */
    network: Type.Union([NetworkType, Type.Literal('onnx')]),
    family: Type.Optional(DetectorFamily),
    decode: Type.Optional(DecodeParams),
    /** Constant extra graph inputs (fed with every run). */
    extraInputs: Type.Optional(Type.Array(ConstantInput, { maxItems: 4 })),
    /** The graph's inputs and outputs as read at package create (KServe metadata). */
    signature: Type.Optional(Type.Object({ inputs: Type.Array(TensorInfo), outputs: Type.Array(TensorInfo) }, { additionalProperties: false })),
    format: Type.Union([Type.Literal('etlt'), Type.Literal('onnx')]),
    /** Model file path inside the package. */
    file: Type.String({ minLength: 1 }),
    input: ModelInput,
    /** Converter -o output nodes, e.g. ["BatchedNMS"]. */
    outputs: Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }),
    /** Ordered class labels: index = class id (sorted unique target_class_mapping values for TAO). */
    classes: Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }),
    nms: NmsConfig,
    precision: Type.Union([Type.Literal('fp32'), Type.Literal('fp16'), Type.Literal('int8')], { default: 'fp16' }),
    maxBatch: Type.Integer({ minimum: 1, maximum: 64, default: 1 }),
    /** For .etlt: a name in the agent's keyring, never the key itself. */
    keyRef: Type.Optional(Type.String({ minLength: 1 })),
    spec: Type.Optional(Type.String({ minLength: 1, description: 'TLT experiment spec file inside the package.' })),
    calibration: Type.Optional(Type.String({ minLength: 1, description: 'INT8 calibration cache inside the package.' })),
    /**
     * A labelled validation set for the accuracy gate (docs/models.md, "Accuracy gate"): a KITTI
     * layout directory inside the package (`dir`) or already on the board (`path`), and the mAP
     * measured at training on it with the same rules.
     */
    validation: Type.Optional(
      Type.Object(
        {
          dir: Type.Optional(Type.String({ minLength: 1, description: 'KITTI-layout directory inside the package (image/ + label/).' })),
          path: Type.Optional(Type.String({ pattern: '^/', description: 'Absolute path of a KITTI-layout directory on the board.' })),
          referenceMap: Type.Optional(Type.Number({ minimum: 0, maximum: 1, description: 'mAP measured at training on this set (TAO evaluate).' })),
          mode: Type.Optional(Type.Union([Type.Literal('sample'), Type.Literal('integrate')])),
          iouThreshold: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1 })),
        },
        { additionalProperties: false },
      ),
    ),
    golden: Type.Optional(
      Type.Object(
        {
          iouTolerance: Type.Number({ minimum: 0, maximum: 1, default: 0.9 }),
          scoreTolerance: Type.Number({ minimum: 0, maximum: 1, default: 0.05 }),
          cases: Type.Array(GoldenCase, { minItems: 1 }),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

export type ModelManifest = Static<typeof ModelManifestSchema>;

/**
 * BatchedNMS plugin attributes, saved when the TensorRT-only NMS node is cut from an ONNX graph
 * so the ONNX Runtime path applies the same NMS in code (docs/reference/batched-nms.md: names,
 * defaults and the values TAO's exporter writes).
 */
export interface NmsAttributes {
  readonly shareLocation: boolean;
  readonly backgroundLabelId: number;
  readonly numClasses: number;
  readonly topK: number;
  readonly keepTopK: number;
  readonly scoreThreshold: number;
  readonly iouThreshold: number;
  readonly isNormalized: boolean;
  readonly clipBoxes: boolean;
  /** +1 on the intersection of pixel boxes (the plugin's default when the attribute is absent: true). */
  readonly caffeSemantics: boolean;
  /**
   * Radix-sort bits for FP16 scores (1..10 narrows the sort; anything else is full width).
   * Recorded for what a TensorRT FP16 engine does; the float32 path here sorts on every bit, as the
   * plugin does for float scores.
   */
  readonly scoreBits: number;
}

/**
 * What conversion produces and the inference service loads. `engine` → tensorrt backend
 * (trt-runner on a Jetson); `onnx` → onnxruntime backend (boxes/scores outputs + NMS in code,
 * or a model whose outputs already follow the BatchedNMS 4-tensor contract).
 */
export type Servable =
  | {
      readonly kind: 'tensorrt';
      readonly enginePath: string;
      readonly model: ModelManifest;
      readonly packageSha256: string;
    }
  | {
      readonly kind: 'onnxruntime';
      readonly onnxPath: string;
      readonly model: ModelManifest;
      readonly packageSha256: string;
      /** Present when the graph ends before NMS: outputs are [boxes, scores] and NMS runs in code. */
      readonly nms: NmsAttributes | null;
      /** Graph output names in the order the post-processor expects. */
      readonly outputNames: readonly string[];
    };
