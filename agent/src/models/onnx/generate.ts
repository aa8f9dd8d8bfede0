import { AttrType, DataType, encodeModel, type Attribute, type OnnxNode, type Tensor, type ValueInfo } from './onnx-proto.js';

/**
 * Generates small ONNX models with the TAO YOLOv3 interface (issue #4 §6, docs/reference/yolov3-io.md "BatchedNMS outputs" and
 * "CPU path"): input `Input` [N,3,H,W] float32, five real stride-2 3×3 convolutions down to a stride-32
 * grid (the YOLO head stride), a decode to normalised x1y1x2y2 boxes `box/concat_concat`
 * [N,boxes,1,4] and scores `cls/mul` [N,boxes,classes] (class × objectness), feeding a
 * `BatchedNMSDynamic_TRT` node with the attributes TAO's exporter sets (docs/reference/tao-specs.md §7). Weights are
 * seeded pseudo-random: the detections are meaningless, the shapes and data flow are real.
 * Tests, the benchmark and the demo model use it so nothing is downloaded.
 */
export interface YoloV3OnnxOptions {
  readonly height: number;
  readonly width: number;
  readonly classes?: number;
  /** Anchors per grid cell (YOLOv3 has 3 per scale). */
  readonly anchors?: number;
  /** Weight seed: different seeds give different (equally meaningless) detections. */
  readonly seed?: number;
  readonly channels?: 1 | 3;
  /** nms_config: confidence_threshold, clustering_iou_threshold, top_k (docs/reference/tao-specs.md §7). */
  readonly scoreThreshold?: number;
  readonly iouThreshold?: number;
  readonly keepTopK?: number;
  /** Extra stride-1 3×3 convolutions at half resolution: a heavier backbone for benchmarks. */
  readonly extraConvs?: number;
  /** Omit the NMS node: the graph ends at boxes/scores (what prepareForOnnxRuntime produces). */
  readonly withoutNms?: boolean;
  /** Rewrites the NMS node's attributes (TAO's set by default): models other exporters write, or bad ones. */
  readonly editNmsAttributes?: (attrs: Attribute[]) => Attribute[];
}

export const TAO_BOXES = 'box/concat_concat';
export const TAO_SCORES = 'cls/mul';
export const BATCHED_NMS_OUTPUTS = ['BatchedNMS', 'BatchedNMS_1', 'BatchedNMS_2', 'BatchedNMS_3'] as const;

/** Output size of a 3×3 stride-2 pad-1 convolution: ceil(n / 2). */
const half = (n: number): number => Math.floor((n - 1) / 2) + 1;

export function yoloV3Grid(height: number, width: number): { gh: number; gw: number } {
  let gh = height;
  let gw = width;
  for (let i = 0; i < 5; i++) {
    gh = half(gh);
    gw = half(gw);
  }
  return { gh, gw };
}

export function yoloV3BoxCount(opts: Pick<YoloV3OnnxOptions, 'height' | 'width' | 'anchors'>): number {
  const { gh, gw } = yoloV3Grid(opts.height, opts.width);
  return (opts.anchors ?? 3) * gh * gw;
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function floatTensor(name: string, dims: number[], data: Float32Array): Tensor {
  return { name, dims, dataType: DataType.FLOAT, rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}
function int64Tensor(name: string, values: number[]): Tensor {
  return { name, dims: [values.length], dataType: DataType.INT64, int64Data: values };
}
function valueInfo(name: string, elemType: number, dims: (number | string)[]): ValueInfo {
  return {
    name,
    type: { tensorType: { elemType, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
  };
}
const intAttr = (name: string, i: number): Attribute => ({ name, type: AttrType.INT, i });
const floatAttr = (name: string, f: number): Attribute => ({ name, type: AttrType.FLOAT, f });
const intsAttr = (name: string, ints: number[]): Attribute => ({ name, type: AttrType.INTS, ints });

export function generateYoloV3Onnx(opts: YoloV3OnnxOptions): Uint8Array {
  const { height: H, width: W } = opts;
  const C = opts.classes ?? 3;
  const A = opts.anchors ?? 3;
  const inCh = opts.channels ?? 3;
  const keepTopK = opts.keepTopK ?? 200;
  const rand = mulberry32(opts.seed ?? 1);
  const { gh, gw } = yoloV3Grid(H, W);
  const G = gh * gw;
  const B = A * G;
  const headCh = A * (5 + C);

  const nodes: OnnxNode[] = [];
  const inits: Tensor[] = [];
  const widths = [inCh, 8, 16, 16, 16, headCh];
  let x = 'Input';
  for (let l = 0; l < 5; l++) {
    const cin = widths[l] ?? 1;
    const cout = widths[l + 1] ?? 1;
    const fanIn = cin * 9;
    // Input pixels are mean-subtracted 0–255 values (±128): scale the first layer down so the
    // activations stay O(1) and the sigmoids do not saturate.
    const gain = (l === 0 ? 1 / 64 : 1) * Math.sqrt(6 / fanIn);
    const w = new Float32Array(cout * fanIn).map(() => (rand() * 2 - 1) * gain);
    const b = new Float32Array(cout).map(() => (rand() * 2 - 1) * 0.1);
    const last = l === 4;
    if (last) for (let a = 0; a < A; a++) b[a * (5 + C) + 4] = -1.5; // objectness bias: few confident boxes
    inits.push(floatTensor(`conv${l}/W`, [cout, cin, 3, 3], w), floatTensor(`conv${l}/B`, [cout], b));
    const y = last ? 'head/conv' : `conv${l}/out`;
    nodes.push({
      name: `conv${l}`,
      opType: 'Conv',
      input: [x, `conv${l}/W`, `conv${l}/B`],
      output: [y],
      attribute: [intsAttr('kernel_shape', [3, 3]), intsAttr('strides', [2, 2]), intsAttr('pads', [1, 1, 1, 1])],
    });
    if (!last) {
      nodes.push({ name: `relu${l}`, opType: 'Relu', input: [y], output: [`relu${l}/out`] });
      x = `relu${l}/out`;
    }
    if (l === 0) {
      for (let e = 0; e < (opts.extraConvs ?? 0); e++) {
        const c = widths[1] ?? 8;
        const g = Math.sqrt(6 / (c * 9));
        inits.push(
          floatTensor(`extra${e}/W`, [c, c, 3, 3], new Float32Array(c * c * 9).map(() => (rand() * 2 - 1) * g)),
          floatTensor(`extra${e}/B`, [c], new Float32Array(c)),
        );
        nodes.push(
          {
            name: `extra${e}`,
            opType: 'Conv',
            input: [x, `extra${e}/W`, `extra${e}/B`],
            output: [`extra${e}/out`],
            attribute: [intsAttr('kernel_shape', [3, 3]), intsAttr('strides', [1, 1]), intsAttr('pads', [1, 1, 1, 1])],
          },
          { name: `extra${e}/relu`, opType: 'Relu', input: [`extra${e}/out`], output: [`extra${e}/act`] },
        );
        x = `extra${e}/act`;
      }
    }
  }

  // [N, A·(5+C), gh, gw] → [N, A, 5+C, G] → [N, A, G, 5+C] → [N, B, 5+C], B anchor-major.
  inits.push(int64Tensor('head/shape1', [0, A, 5 + C, -1]), int64Tensor('head/shape2', [0, -1, 5 + C]));
  nodes.push(
    { name: 'head/reshape1', opType: 'Reshape', input: ['head/conv', 'head/shape1'], output: ['head/r1'] },
    { name: 'head/transpose', opType: 'Transpose', input: ['head/r1'], output: ['head/t'], attribute: [intsAttr('perm', [0, 1, 3, 2])] },
    { name: 'head/reshape2', opType: 'Reshape', input: ['head/t', 'head/shape2'], output: ['head/r2'] },
    { name: 'head/sigmoid', opType: 'Sigmoid', input: ['head/r2'], output: ['head/sig'] },
  );
  const slice = (name: string, start: number, end: number): void => {
    inits.push(int64Tensor(`${name}/starts`, [start]), int64Tensor(`${name}/ends`, [end]), int64Tensor(`${name}/axes`, [2]));
    nodes.push({ name, opType: 'Slice', input: ['head/sig', `${name}/starts`, `${name}/ends`, `${name}/axes`], output: [name] });
  };
  slice('head/xy', 0, 2);
  slice('head/wh', 2, 4);
  slice('head/obj', 4, 5);
  slice('head/cls', 5, 5 + C);

  // Cell offsets (col, row) per box and the anchor sizes (normalised to the input).
  const grid = new Float32Array(B * 2);
  const anchorWh = new Float32Array(B * 2);
  const anchorSizes = [0.08, 0.2, 0.45];
  for (let a = 0; a < A; a++) {
    const s = anchorSizes[a % anchorSizes.length] ?? 0.2;
    for (let g = 0; g < G; g++) {
      const i = (a * G + g) * 2;
      grid[i] = g % gw;
      grid[i + 1] = Math.floor(g / gw);
      anchorWh[i] = s * 2;
      anchorWh[i + 1] = s * 2;
    }
  }
  inits.push(
    floatTensor('box/grid', [1, B, 2], grid),
    floatTensor('box/inv_grid', [1, 1, 2], new Float32Array([1 / gw, 1 / gh])),
    floatTensor('box/anchors', [1, B, 2], anchorWh),
    floatTensor('box/half', [1], new Float32Array([0.5])),
    int64Tensor('box/axes', [2]),
  );
  nodes.push(
    { name: 'box/add_grid', opType: 'Add', input: ['head/xy', 'box/grid'], output: ['box/cxy_cells'] },
    { name: 'box/center', opType: 'Mul', input: ['box/cxy_cells', 'box/inv_grid'], output: ['box/cxy'] },
    { name: 'box/size', opType: 'Mul', input: ['head/wh', 'box/anchors'], output: ['box/wh'] },
    { name: 'box/half_size', opType: 'Mul', input: ['box/wh', 'box/half'], output: ['box/hwh'] },
    { name: 'box/min', opType: 'Sub', input: ['box/cxy', 'box/hwh'], output: ['box/x1y1'] },
    { name: 'box/max', opType: 'Add', input: ['box/cxy', 'box/hwh'], output: ['box/x2y2'] },
    { name: 'box/concat', opType: 'Concat', input: ['box/x1y1', 'box/x2y2'], output: ['box/concat'], attribute: [intAttr('axis', 2)] },
    { name: 'box/unsqueeze', opType: 'Unsqueeze', input: ['box/concat', 'box/axes'], output: [TAO_BOXES] },
    { name: 'cls/mul', opType: 'Mul', input: ['head/cls', 'head/obj'], output: [TAO_SCORES] },
  );

  const scoreThreshold = opts.scoreThreshold ?? 0.3;
  const iouThreshold = opts.iouThreshold ?? 0.5;
  let outputs: ValueInfo[];
  if (opts.withoutNms) {
    outputs = [valueInfo(TAO_BOXES, DataType.FLOAT, ['N', B, 1, 4]), valueInfo(TAO_SCORES, DataType.FLOAT, ['N', B, C])];
  } else {
    // Attributes exactly as TAO's yolov3_exporter.process_nms_node sets them (docs/reference/tao-specs.md §7).
    nodes.push({
      name: 'BatchedNMS_N',
      opType: 'BatchedNMSDynamic_TRT',
      input: [TAO_BOXES, TAO_SCORES],
      output: [...BATCHED_NMS_OUTPUTS],
      attribute: (opts.editNmsAttributes ?? ((a: Attribute[]) => a))([
        intAttr('shareLocation', 1),
        intAttr('backgroundLabelId', -1),
        intAttr('numClasses', C),
        intAttr('topK', 2 * keepTopK),
        intAttr('keepTopK', keepTopK),
        floatAttr('scoreThreshold', scoreThreshold),
        floatAttr('iouThreshold', iouThreshold),
        intAttr('isNormalized', 1),
        intAttr('clipBoxes', 1),
        intAttr('scoreBits', 16),
      ]),
    });
    outputs = [
      valueInfo('BatchedNMS', DataType.INT32, ['N', 1]),
      valueInfo('BatchedNMS_1', DataType.FLOAT, ['N', keepTopK, 4]),
      valueInfo('BatchedNMS_2', DataType.FLOAT, ['N', keepTopK]),
      valueInfo('BatchedNMS_3', DataType.FLOAT, ['N', keepTopK]),
    ];
  }

  return encodeModel({
    irVersion: 7,
    opsetImport: [{ domain: '', version: 13 }],
    producerName: 'jetson-edge-agent test-model generator',
    graph: {
      name: `yolov3_generated_${H}x${W}`,
      node: nodes,
      initializer: inits,
      input: [valueInfo('Input', DataType.FLOAT, ['N', inCh, H, W])],
      output: outputs,
    },
  });
}
