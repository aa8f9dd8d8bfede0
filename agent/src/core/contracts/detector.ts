import { Type, type Static } from '@sinclair/typebox';

/**
 * Detector families the agent decodes (docs/reference/model-families.md): one decoder module per
 * family in inference/decoders/, recognised at intake from the ONNX graph (models/families/).
 */
export const DETECTOR_FAMILIES = [
  'tao-batched-nms',
  'efficient-nms',
  'onnx-nms',
  'detectnet-v2',
  'yolov5',
  'yolov8',
  'yolo-end2end',
  'yolox',
  'detr',
] as const;

export type DetectorFamilyName = (typeof DETECTOR_FAMILIES)[number];

export const DetectorFamily = Type.Union(
  DETECTOR_FAMILIES.map((f) => Type.Literal(f)),
  { description: 'Output layout and decode; absent in a package = tao-batched-nms (TAO YOLOv3/v4).' },
);

/** Decode parameters; each family reads the ones it needs (docs/models.md "Families"). */
export const DecodeParams = Type.Object(
  {
    /** Output names in the order the decoder reads them (graph names). */
    outputs: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { minItems: 1, maxItems: 8 })),
    /** YOLOX grid strides (8, 16, 32 upstream). */
    strides: Type.Optional(Type.Array(Type.Integer({ minimum: 1, maximum: 256 }), { minItems: 1, maxItems: 8 })),
    /** Boxes in [0,1] of the input (true) or in input pixels (false). EfficientNMS / end-to-end outputs. */
    boxesNormalized: Type.Optional(Type.Boolean()),
    /** ONNX NonMaxSuppression boxes: y1,x1,y2,x2 (TensorFlow order, ONNX's default) or x1,y1,x2,y2. */
    boxOrder: Type.Optional(Type.Union([Type.Literal('yxyx'), Type.Literal('xyxy')])),
    /** DetectNet_v2 grid stride (16) and bbox_norm (35), and the cell-centre offset (0.5). */
    gridStride: Type.Optional(Type.Integer({ minimum: 1, maximum: 128 })),
    bboxNorm: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
    gridOffset: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
    /** DetectNet_v2 clustering, as DeepStream's cluster-mode: NMS, DBSCAN or none. */
    cluster: Type.Optional(Type.Union([Type.Literal('nms'), Type.Literal('dbscan'), Type.Literal('none')])),
    /** DBSCAN: neighbourhood as 1 − IoU < eps, and the smallest cluster kept. */
    dbscanEps: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1 })),
    dbscanMinBoxes: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
    /** DETR: class scores are sigmoid(logits) (DINO, RT-DETR) or softmax with a no-object class (original DETR). */
    scoreActivation: Type.Optional(Type.Union([Type.Literal('sigmoid'), Type.Literal('softmax')])),
    /** NMS across classes (YOLOX's demo) instead of per class. */
    classAgnostic: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export type DecodeParamsT = Static<typeof DecodeParams>;

/** A constant second input some graphs take (ONNX model zoo YOLOv3's `image_shape`). */
export const ConstantInput = Type.Object(
  {
    name: Type.String({ minLength: 1 }),
    /** Per batch item; `input-hw` = the network input height and width (boxes then come back in input pixels). */
    value: Type.Union([Type.Literal('input-hw'), Type.Array(Type.Number(), { minItems: 1, maxItems: 16 })]),
    dtype: Type.Union([Type.Literal('float32'), Type.Literal('int32'), Type.Literal('int64')], { default: 'float32' }),
  },
  { additionalProperties: false },
);

/** One graph input or output as recorded at intake (KServe metadata reports these). */
export const TensorInfo = Type.Object(
  {
    name: Type.String({ minLength: 1 }),
    /** KServe v2 datatype: FP32, FP16, INT32, INT64, INT8, UINT8, BOOL, FP64. */
    datatype: Type.String({ minLength: 2 }),
    /** −1 for a dynamic dimension. */
    shape: Type.Array(Type.Integer({ minimum: -1 })),
  },
  { additionalProperties: false },
);
export type TensorInfoT = Static<typeof TensorInfo>;
