import { createHash } from 'node:crypto';
import { MODEL_SCHEMA_VERSION, type ModelManifest, type Servable } from '../../agent/src/core/contracts/model.js';
import { AttrType, DataType, encodeModel, type Attribute, type OnnxNode, type Tensor, type ValueInfo } from '../../agent/src/models/onnx/onnx-proto.js';

/**
 * A detector whose answer is a known function of the image, for evaluation tests: class k
 * (k = 0, 1, 2) is "pixels brighter than 127.5 in tensor channel k" (B, G, R: the TAO BGR
 * tensor with its mean added back); its box is the bounding box of those pixels and its score
 * the brightest value / 255. So a pure blue rectangle of value v at columns [a, b), rows
 * [c, d) is detected as class 0 with box (a, c, b, d) and score v / 255 — one object per class
 * per image. The graph ends in the BatchedNMSDynamic_TRT node TAO's exporter writes, so the
 * agent's real ONNX preparation, NMS and box mapping run.
 */
const f32 = (name: string, dims: number[], data: number[]): Tensor => {
  const a = new Float32Array(data);
  return { name, dims, dataType: DataType.FLOAT, rawData: new Uint8Array(a.buffer) };
};
const i64 = (name: string, values: number[]): Tensor => ({ name, dims: [values.length], dataType: DataType.INT64, int64Data: values });
const ints = (name: string, v: number[]): Attribute => ({ name, type: AttrType.INTS, ints: v });
const int = (name: string, i: number): Attribute => ({ name, type: AttrType.INT, i });
const float = (name: string, f: number): Attribute => ({ name, type: AttrType.FLOAT, f });
const vi = (name: string, elem: number, dims: (number | string)[]): ValueInfo => ({
  name,
  type: { tensorType: { elemType: elem, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
});

export const MEAN_BGR = [103.939, 116.779, 123.68];

/** `maskThreshold` above 127.5 makes a degraded model: dim objects are no longer seen. */
export function colourBoxOnnx(width: number, height: number, scoreThreshold = 0.3, maskThreshold = 127.5): Uint8Array {
  const W = width;
  const H = height;
  const nodes: OnnxNode[] = [];
  const inits: Tensor[] = [
    f32('mean', [1, 3, 1, 1], MEAN_BGR),
    f32('half', [1], [maskThreshold]),
    f32('inv255', [1], [1 / 255]),
    f32('one', [1], [1]),
    // Column/row ramps scaled to the normalised frame: max(col · (i+1)/W) = right edge,
    // 1 − max(col · (W−i)/W) = left edge.
    f32('rampX', [1, 1, 1, W], Array.from({ length: W }, (_, i) => (i + 1) / W)),
    f32('rampXr', [1, 1, 1, W], Array.from({ length: W }, (_, i) => (W - i) / W)),
    f32('rampY', [1, 1, H, 1], Array.from({ length: H }, (_, i) => (i + 1) / H)),
    f32('rampYr', [1, 1, H, 1], Array.from({ length: H }, (_, i) => (H - i) / H)),
    f32('eye', [1, 3, 3], [1, 0, 0, 0, 1, 0, 0, 0, 1]),
    i64('ax2', [2]),
  ];
  const n = (opType: string, input: string[], output: string, attribute: Attribute[] = []): void => {
    nodes.push({ name: output, opType, input, output: [output], attribute });
  };
  n('Add', ['Input', 'mean'], 'px');
  n('Greater', ['px', 'half'], 'maskb');
  n('Cast', ['maskb'], 'mask', [int('to', DataType.FLOAT)]);
  n('ReduceMax', ['mask'], 'col', [ints('axes', [2]), int('keepdims', 1)]);
  n('ReduceMax', ['mask'], 'row', [ints('axes', [3]), int('keepdims', 1)]);
  const edge = (prof: string, ramp: string, out: string): void => {
    n('Mul', [prof, ramp], `${out}/m`);
    n('ReduceMax', [`${out}/m`], out, [ints('axes', [2, 3]), int('keepdims', 0)]);
  };
  edge('col', 'rampX', 'x2');
  edge('col', 'rampXr', 'x1r');
  edge('row', 'rampY', 'y2');
  edge('row', 'rampYr', 'y1r');
  n('Sub', ['one', 'x1r'], 'x1');
  n('Sub', ['one', 'y1r'], 'y1');
  for (const c of ['x1', 'y1', 'x2', 'y2']) n('Unsqueeze', [c, 'ax2'], `${c}/u`);
  n('Concat', ['x1/u', 'y1/u', 'x2/u', 'y2/u'], 'box4', [int('axis', 2)]);
  n('Unsqueeze', ['box4', 'ax2'], 'box/concat_concat');
  n('Mul', ['px', 'mask'], 'lit');
  n('ReduceMax', ['lit'], 'peak', [ints('axes', [2, 3]), int('keepdims', 0)]);
  n('Mul', ['peak', 'inv255'], 'score');
  n('Unsqueeze', ['score', 'ax2'], 'score/u');
  n('Mul', ['score/u', 'eye'], 'cls/mul');
  nodes.push({
    name: 'BatchedNMS_N',
    opType: 'BatchedNMSDynamic_TRT',
    input: ['box/concat_concat', 'cls/mul'],
    output: ['BatchedNMS', 'BatchedNMS_1', 'BatchedNMS_2', 'BatchedNMS_3'],
    attribute: [
      int('shareLocation', 1),
      int('backgroundLabelId', -1),
      int('numClasses', 3),
      int('topK', 6),
      int('keepTopK', 3),
      float('scoreThreshold', scoreThreshold),
      float('iouThreshold', 0.5),
      int('isNormalized', 1),
      int('clipBoxes', 1),
      int('scoreBits', 16),
    ],
  });
  return encodeModel({
    irVersion: 7,
    opsetImport: [{ domain: '', version: 13 }],
    producerName: 'jetson-edge-agent colour-box test model',
    graph: {
      name: 'colour_box',
      node: nodes,
      initializer: inits,
      input: [vi('Input', DataType.FLOAT, ['N', 3, H, W])],
      output: [vi('BatchedNMS', DataType.INT32, ['N', 1]), vi('BatchedNMS_1', DataType.FLOAT, ['N', 3, 4]), vi('BatchedNMS_2', DataType.FLOAT, ['N', 3]), vi('BatchedNMS_3', DataType.FLOAT, ['N', 3])],
    },
  });
}

/** Classes in class-id order: car = blue (tensor channel 0), cyclist = green, pedestrian = red. */
export const COLOUR_CLASSES = ['car', 'cyclist', 'pedestrian'] as const;

export function colourBoxServable(name: string, version: string, width: number, height: number, bytes = colourBoxOnnx(width, height)): { servable: Servable; bytes: Uint8Array } {
  const model: ModelManifest = {
    schemaVersion: MODEL_SCHEMA_VERSION,
    name,
    version,
    network: 'yolov3',
    format: 'onnx',
    file: 'model.onnx',
    input: { name: 'Input', channels: 3, height, width, colorOrder: 'bgr', mean: MEAN_BGR, scale: 1, resize: 'letterbox-center' },
    outputs: ['BatchedNMS'],
    classes: [...COLOUR_CLASSES],
    nms: { confidenceThreshold: 0.3, iouThreshold: 0.5, topK: 200 },
    precision: 'fp32',
    maxBatch: 1,
  };
  return {
    bytes,
    servable: { kind: 'onnxruntime', onnxPath: `memory:${name}@${version}`, model, packageSha256: createHash('sha256').update(bytes).digest('hex'), nms: null, outputNames: [] },
  };
}
