import type { DetectorFamilyName } from '../../core/contracts/detector.js';
import { AttrType, DataType, encodeModel, type Attribute, type OnnxNode, type Tensor, type ValueInfo } from './onnx-proto.js';

/**
 * Generates ONNX graphs with each detector family's exact I/O signature (names, element types,
 * shapes; docs/reference/model-families.md) whose outputs encode PLANTED objects: a test knows
 * what the whole path (package create → models add → activate → /v1/detect) must answer. The
 * outputs are constants added to 0 × mean(input), so the graph reads its input and ONNX Runtime
 * runs it for real; the onnx-nms graph runs a real NonMaxSuppression over a decoy box. fp16
 * variants take and give float16 (Cast around the float32 body), as fp16-I/O exports do.
 */
export interface PlantedObject {
  readonly cls: number;
  readonly score: number;
  /** Model-input pixels. */
  readonly x1: number;
  readonly y1: number;
  readonly x2: number;
  readonly y2: number;
}

export interface FamilyModelOptions {
  readonly family: Exclude<DetectorFamilyName, 'tao-batched-nms'>;
  readonly height: number;
  readonly width: number;
  readonly classes: number;
  readonly objects: readonly PlantedObject[];
  readonly fp16?: boolean;
  /** Ultralytics metadata_props (names, imgsz, stride) on the Ultralytics families. */
  readonly ultralyticsNames?: readonly string[];
}

const intAttr = (name: string, i: number): Attribute => ({ name, type: AttrType.INT, i });
const vi = (name: string, elemType: number, dims: number[]): ValueInfo => ({ name, type: { tensorType: { elemType, shape: { dim: dims.map((d) => ({ dimValue: d })) } } } });
const floatT = (name: string, dims: number[], data: Float32Array): Tensor => ({ name, dims, dataType: DataType.FLOAT, rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) });
const int64T = (name: string, values: number[]): Tensor => ({ name, dims: [values.length], dataType: DataType.INT64, int64Data: values });

const logit = (p: number): number => Math.log(p / (1 - p));
const cells = (h: number, w: number, strides: readonly number[]): number => strides.reduce((n, s) => n + Math.floor(h / s) * Math.floor(w / s), 0);

interface Out {
  readonly name: string;
  readonly dims: number[];
  readonly data: Float32Array;
  /** Element type of the graph output (float outputs become float16 in the fp16 variant). */
  readonly type: 'float' | 'int32' | 'int64';
}

function outputsFor(o: FamilyModelOptions): { inputName: string; outputs: Out[]; nms?: boolean } {
  const { height: H, width: W, classes: C, objects } = o;
  switch (o.family) {
    case 'yolov5': {
      const n = 3 * cells(H, W, [8, 16, 32]);
      const d = new Float32Array(n * (5 + C));
      objects.forEach((b, r) => {
        const row = (r * 97) % n; // anywhere: YOLOv5 rows are already decoded
        d.set([(b.x1 + b.x2) / 2, (b.y1 + b.y2) / 2, b.x2 - b.x1, b.y2 - b.y1, 1], row * (5 + C));
        d[row * (5 + C) + 5 + b.cls] = b.score;
      });
      return { inputName: 'images', outputs: [{ name: 'output0', dims: [1, n, 5 + C], data: d, type: 'float' }] };
    }
    case 'yolov8': {
      const n = cells(H, W, [8, 16, 32]);
      const d = new Float32Array((4 + C) * n);
      objects.forEach((b, r) => {
        const i = (r * 89) % n;
        d[i] = (b.x1 + b.x2) / 2;
        d[n + i] = (b.y1 + b.y2) / 2;
        d[2 * n + i] = b.x2 - b.x1;
        d[3 * n + i] = b.y2 - b.y1;
        d[(4 + b.cls) * n + i] = b.score;
      });
      return { inputName: 'images', outputs: [{ name: 'output0', dims: [1, 4 + C, n], data: d, type: 'float' }] };
    }
    case 'yolo-end2end': {
      const d = new Float32Array(300 * 6);
      objects.forEach((b, r) => d.set([b.x1, b.y1, b.x2, b.y2, b.score, b.cls], r * 6));
      return { inputName: 'images', outputs: [{ name: 'output0', dims: [1, 300, 6], data: d, type: 'float' }] };
    }
    case 'yolox': {
      const n = cells(H, W, [8, 16, 32]);
      const d = new Float32Array(n * (5 + C));
      const gw = Math.floor(W / 8);
      for (const b of objects) {
        const cx = (b.x1 + b.x2) / 2;
        const cy = (b.y1 + b.y2) / 2;
        const gx = Math.floor(cx / 8);
        const gy = Math.floor(cy / 8);
        const row = gy * gw + gx; // stride 8 rows come first, row-major
        d.set([cx / 8 - gx, cy / 8 - gy, Math.log((b.x2 - b.x1) / 8), Math.log((b.y2 - b.y1) / 8), 1], row * (5 + C));
        d[row * (5 + C) + 5 + b.cls] = b.score;
      }
      return { inputName: 'images', outputs: [{ name: 'output', dims: [1, n, 5 + C], data: d, type: 'float' }] };
    }
    case 'detr': {
      const Q = 20;
      const logits = new Float32Array(Q * C).fill(-20);
      const boxes = new Float32Array(Q * 4).fill(0.1);
      objects.forEach((b, q) => {
        logits[q * C + b.cls] = logit(b.score);
        boxes.set([(b.x1 + b.x2) / 2 / W, (b.y1 + b.y2) / 2 / H, (b.x2 - b.x1) / W, (b.y2 - b.y1) / H], q * 4);
      });
      return {
        inputName: 'inputs',
        outputs: [
          { name: 'pred_logits', dims: [1, Q, C], data: logits, type: 'float' },
          { name: 'pred_boxes', dims: [1, Q, 4], data: boxes, type: 'float' },
        ],
      };
    }
    case 'detectnet-v2': {
      const gh = H / 16;
      const gw = W / 16;
      const plane = gh * gw;
      const cov = new Float32Array(C * plane);
      const bbox = new Float32Array(4 * C * plane);
      for (const b of objects) {
        const i = Math.floor((b.x1 + b.x2) / 2 / 16);
        const j = Math.floor((b.y1 + b.y2) / 2 / 16);
        const cx = (16 * i + 0.5) / 35;
        const cy = (16 * j + 0.5) / 35;
        cov[b.cls * plane + j * gw + i] = b.score;
        const at = (k: number): number => (b.cls * 4 + k) * plane + j * gw + i;
        bbox[at(0)] = cx - b.x1 / 35;
        bbox[at(1)] = cy - b.y1 / 35;
        bbox[at(2)] = b.x2 / 35 - cx;
        bbox[at(3)] = b.y2 / 35 - cy;
      }
      return {
        inputName: 'input_1:0',
        outputs: [
          { name: 'output_cov/Sigmoid:0', dims: [1, C, gh, gw], data: cov, type: 'float' },
          { name: 'output_bbox/BiasAdd:0', dims: [1, 4 * C, gh, gw], data: bbox, type: 'float' },
        ],
      };
    }
    case 'efficient-nms': {
      const K = 100;
      const boxes = new Float32Array(K * 4);
      const scores = new Float32Array(K);
      const classes = new Float32Array(K);
      objects.forEach((b, r) => {
        boxes.set([b.x1, b.y1, b.x2, b.y2], r * 4);
        scores[r] = b.score;
        classes[r] = b.cls;
      });
      return {
        inputName: 'images',
        outputs: [
          { name: 'num_detections', dims: [1, 1], data: Float32Array.of(objects.length), type: 'int32' },
          { name: 'detection_boxes', dims: [1, K, 4], data: boxes, type: 'float' },
          { name: 'detection_scores', dims: [1, K], data: scores, type: 'float' },
          { name: 'detection_classes', dims: [1, K], data: classes, type: 'int32' },
        ],
      };
    }
    case 'onnx-nms': {
      // Each object plus a decoy: the same box shifted by 1 px, scored lower, that the real
      // NonMaxSuppression must suppress. Boxes y1 x1 y2 x2; scores [1, C, N].
      const N = objects.length * 2;
      const boxes = new Float32Array(N * 4);
      const scores = new Float32Array(C * N);
      objects.forEach((b, k) => {
        boxes.set([b.y1, b.x1, b.y2, b.x2], 2 * k * 4);
        boxes.set([b.y1 + 1, b.x1 + 1, b.y2 + 1, b.x2 + 1], (2 * k + 1) * 4);
        scores[b.cls * N + 2 * k] = b.score;
        scores[b.cls * N + 2 * k + 1] = b.score * 0.9;
      });
      return {
        inputName: 'input_1',
        nms: true,
        outputs: [
          { name: 'yolonms_layer_1/ExpandDims_1:0', dims: [1, N, 4], data: boxes, type: 'float' },
          { name: 'yolonms_layer_1/ExpandDims_3:0', dims: [1, C, N], data: scores, type: 'float' },
        ],
      };
    }
  }
}

export function generateFamilyOnnx(o: FamilyModelOptions): Uint8Array {
  const { inputName, outputs, nms } = outputsFor(o);
  const fp16 = o.fp16 ?? false;
  const nodes: OnnxNode[] = [];
  const inits: Tensor[] = [floatT('zero', [], Float32Array.of(0))];
  const inputs: ValueInfo[] = [vi(inputName, fp16 ? DataType.FLOAT16 : DataType.FLOAT, [1, 3, o.height, o.width])];
  let x = inputName;
  if (fp16) {
    nodes.push({ name: 'in/cast', opType: 'Cast', input: [x], output: ['in/f32'], attribute: [intAttr('to', DataType.FLOAT)] });
    x = 'in/f32';
  }
  nodes.push(
    { name: 'dep/mean', opType: 'ReduceMean', input: [x], output: ['dep/m'], attribute: [intAttr('keepdims', 0)] },
    { name: 'dep/zero', opType: 'Mul', input: ['dep/m', 'zero'], output: ['dep/z'] },
  );
  let dep = 'dep/z';
  if (nms) {
    inputs.push(vi('image_shape', DataType.FLOAT, [1, 2]));
    nodes.push(
      { name: 'shape/mean', opType: 'ReduceMean', input: ['image_shape'], output: ['shape/m'], attribute: [intAttr('keepdims', 0)] },
      { name: 'shape/zero', opType: 'Mul', input: ['shape/m', 'zero'], output: ['shape/z'] },
      { name: 'dep/sum', opType: 'Add', input: ['dep/z', 'shape/z'], output: ['dep/all'] },
    );
    dep = 'dep/all';
  }
  const graphOutputs: ValueInfo[] = [];
  for (const out of outputs) {
    inits.push(floatT(`${out.name}/const`, out.dims, out.data));
    const sum = `${out.name}/f32`;
    nodes.push({ name: `${out.name}/add`, opType: 'Add', input: [`${out.name}/const`, dep], output: [out.type === 'float' && !fp16 ? out.name : sum] });
    if (out.type !== 'float') {
      const to = out.type === 'int32' ? DataType.INT32 : DataType.INT64;
      nodes.push({ name: `${out.name}/cast`, opType: 'Cast', input: [sum], output: [out.name], attribute: [intAttr('to', to)] });
      graphOutputs.push(vi(out.name, to, out.dims));
    } else if (fp16) {
      nodes.push({ name: `${out.name}/cast`, opType: 'Cast', input: [sum], output: [out.name], attribute: [intAttr('to', DataType.FLOAT16)] });
      graphOutputs.push(vi(out.name, DataType.FLOAT16, out.dims));
    } else {
      graphOutputs.push(vi(out.name, DataType.FLOAT, out.dims));
    }
  }
  if (nms) {
    const [boxes, scores] = outputs;
    // The NMS reads the float32 tensors; selected_indices is int64 [M,3] (ONNX NonMaxSuppression).
    const b32 = fp16 ? `${boxes!.name}/f32` : boxes!.name;
    const s32 = fp16 ? `${scores!.name}/f32` : scores!.name;
    inits.push(int64T('nms/max', [10]), floatT('nms/iou', [1], Float32Array.of(0.5)), floatT('nms/score', [1], Float32Array.of(0.2)));
    nodes.push({ name: 'nms', opType: 'NonMaxSuppression', input: [b32, s32, 'nms/max', 'nms/iou', 'nms/score'], output: ['yolonms_layer_1/concat_2:0'] });
    graphOutputs.push({ name: 'yolonms_layer_1/concat_2:0', type: { tensorType: { elemType: DataType.INT64, shape: { dim: [{ dimParam: 'M' }, { dimValue: 3 }] } } } });
  }
  const names = o.ultralyticsNames;
  const ultralytics = names && (o.family === 'yolov5' || o.family === 'yolov8' || o.family === 'yolo-end2end');
  return encodeModel({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 13 }],
    producerName: 'jetson-edge-agent test-model generator',
    ...(ultralytics
      ? {
          metadataProps: [
            { key: 'names', value: `{${names.map((n, i) => `${i}: '${n}'`).join(', ')}}` },
            { key: 'imgsz', value: `[${o.height}, ${o.width}]` },
            { key: 'stride', value: '32' },
            { key: 'task', value: 'detect' },
          ],
        }
      : {}),
    graph: { name: `${o.family}_planted`, node: nodes, initializer: inits, input: inputs, output: graphOutputs },
  });
}
