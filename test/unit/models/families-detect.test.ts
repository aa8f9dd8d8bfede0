import t from 'tap';
import { detectFamily } from '../../../agent/src/models/families/detect.js';
import { parseNamesDict, parseUltralyticsMeta } from '../../../agent/src/models/families/ultralytics-meta.js';
import { familyUnknown, graphManifestFields, checkInputAgrees } from '../../../agent/src/models/families/graph-manifest.js';
import type { OnnxSignature } from '../../../agent/src/models/onnx/signature.js';
import type { TensorInfoT } from '../../../agent/src/core/contracts/detector.js';

/** Signatures in each family's exact layout (docs/reference/model-families.md). */
const ti = (name: string, shape: number[], datatype = 'FP32'): TensorInfoT => ({ name, datatype, shape });
const sig = (inputs: TensorInfoT[], outputs: TensorInfoT[], ops: string[] = ['Conv'], metadata: Record<string, string> = {}): OnnxSignature => ({ inputs, outputs, ops: new Set(ops), metadata });
const images640 = ti('images', [1, 3, 640, 640]);

const cases: [string, OnnxSignature, string, number | null][] = [
  ['TAO YOLOv3 with the plugin node', sig([ti('Input', [-1, 3, 384, 1248])], [ti('BatchedNMS', [-1, 1], 'INT32'), ti('BatchedNMS_1', [-1, 200, 4])], ['Conv', 'BatchedNMSDynamic_TRT']), 'tao-batched-nms', null],
  [
    'EfficientNMS outputs',
    sig([images640], [ti('num_detections', [1, 1], 'INT32'), ti('detection_boxes', [1, 100, 4]), ti('detection_scores', [1, 100]), ti('detection_classes', [1, 100], 'INT32')]),
    'efficient-nms',
    null,
  ],
  [
    'ONNX model zoo YOLOv3 (NonMaxSuppression, image_shape)',
    sig([ti('input_1', [-1, 3, 416, 416]), ti('image_shape', [-1, 2])], [ti('yolonms_layer_1/ExpandDims_1:0', [1, -1, 4]), ti('yolonms_layer_1/ExpandDims_3:0', [1, 80, -1]), ti('yolonms_layer_1/concat_2:0', [-1, 3], 'INT32')], ['Conv', 'NonMaxSuppression']),
    'onnx-nms',
    80,
  ],
  ['TAO DetectNet_v2 (PeopleNet)', sig([ti('input_1:0', [-1, 3, 544, 960])], [ti('output_cov/Sigmoid:0', [-1, 3, 34, 60]), ti('output_bbox/BiasAdd:0', [-1, 12, 34, 60])]), 'detectnet-v2', 3],
  ['TAO DINO', sig([ti('inputs', [-1, 3, 544, 960])], [ti('pred_logits', [-1, 900, 91]), ti('pred_boxes', [-1, 900, 4])]), 'detr', 91],
  ['YOLOv5', sig([images640], [ti('output0', [1, 25200, 85])]), 'yolov5', 80],
  ['YOLOv8 / YOLO11', sig([images640], [ti('output0', [1, 84, 8400])]), 'yolov8', 80],
  ['YOLO26 end-to-end', sig([images640], [ti('output0', [1, 300, 6])]), 'yolo-end2end', null],
  ['YOLOX-Nano', sig([ti('images', [1, 3, 416, 416])], [ti('output', [1, 3549, 85])]), 'yolox', 80],
];

for (const [name, s, family, classes] of cases) {
  t.test(`detects ${name} as ${family}`, async (t) => {
    const m = detectFamily(s);
    t.equal(m?.family, family, m?.why ?? 'no match');
    t.equal(m?.numClasses ?? null, classes);
  });
}

t.test('Ultralytics metadata: names, imgsz for a symbolic input', async (t) => {
  t.same(parseNamesDict("{0: 'person', 1: \"bicycle\", 3: 'it\\'s'}"), ['person', 'bicycle', 'class2', "it's"]);
  t.same(parseUltralyticsMeta({ imgsz: '[480, 640]', stride: '32' }), { names: null, imgsz: [480, 640], stride: 32, task: null });
  const m = detectFamily(sig([ti('images', [-1, 3, -1, -1])], [ti('output0', [-1, 6, -1])], ['Conv'], { names: "{0: 'a', 1: 'b'}", imgsz: '[320, 320]' }));
  // A fully symbolic output cannot be told apart by shape: --family does it.
  t.equal(m, null);
  const forced = detectFamily(sig([ti('images', [-1, 3, -1, -1])], [ti('output0', [-1, 6, 2100])], ['Conv'], { names: "{0: 'a', 1: 'b'}", imgsz: '[320, 320]' }), 'yolov8');
  t.equal(forced?.family, 'yolov8');
  t.same([forced?.height, forced?.width, forced?.classNames, forced?.dynamicBatch], [320, 320, ['a', 'b'], true]);
});

t.test('--family that the outputs contradict is no match; the refusal lists the outputs and families', async (t) => {
  const s = sig([images640], [ti('output0', [1, 84, 8400])]);
  t.equal(detectFamily(s, 'yolox'), null);
  const e = familyUnknown(sig([images640], [ti('heatmap', [1, 17, 160, 160])]), undefined);
  t.equal(e.code, 'MODEL_FAMILY_UNKNOWN');
  t.match(e.message, /heatmap FP32 \[1,17,160,160\].*Known families: tao-batched-nms, efficient-nms/);
});

t.test('an input size that disagrees with the graph is refused at package create', async (t) => {
  const m = detectFamily(sig([ti('images', [1, 3, 416, 416])], [ti('output', [1, 3549, 85])]))!;
  t.throws(() => checkInputAgrees(m, { c: 3, h: 640, w: 640 }, '--input'), { code: 'MODEL_INPUT_MISMATCH', message: /--input gives the input as 3x640x640.*height 640 vs 416, width 640 vs 416/ });
  t.doesNotThrow(() => checkInputAgrees(m, { c: 3, h: 416, w: 416 }, '--input'));
});

t.test('manifest fields: YOLOX profile, thresholds, classes by count', async (t) => {
  const s = sig([ti('images', [1, 3, 416, 416])], [ti('output', [1, 3549, 85])]);
  const m = detectFamily(s)!;
  const names = Array.from({ length: 80 }, (_, i) => `c${i}`);
  const f = graphManifestFields({ match: m, sig: s, classes: names, thresholds: { iouThreshold: 0.5 } });
  t.same(f.input, { name: 'images', channels: 3, height: 416, width: 416, colorOrder: 'bgr', mean: [0, 0, 0], scale: 1, resize: 'letterbox-topleft', pad: 114, resample: 'opencv-linear', sizeRounding: 'floor' });
  t.same(f.nms, { confidenceThreshold: 0.3, iouThreshold: 0.5, topK: 200, maxDetections: 300 });
  t.same(f.decode, { strides: [8, 16, 32], classAgnostic: true });
  t.throws(() => graphManifestFields({ match: m, sig: s, classes: ['a'] }), /1 class names for a graph with 80 classes/);
  t.throws(() => graphManifestFields({ match: m, sig: s }), /no class names/);
});
