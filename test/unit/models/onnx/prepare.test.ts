import t from 'tap';
import * as ort from 'onnxruntime-node';
import { generateYoloV3Onnx, yoloV3BoxCount, TAO_BOXES, TAO_SCORES } from '../../../../agent/src/models/onnx/generate.js';
import { prepareForOnnxRuntime } from '../../../../agent/src/models/onnx/prepare.js';
import { decodeModel } from '../../../../agent/src/models/onnx/onnx-proto.js';

const opts = { intraOpNumThreads: 1, interOpNumThreads: 1 };

t.test('the generated TAO-shaped model has the BatchedNMS node and TAO attributes', async (t) => {
  const bytes = generateYoloV3Onnx({ height: 64, width: 96, classes: 3, keepTopK: 50, scoreThreshold: 0.2, iouThreshold: 0.6 });
  const m = decodeModel(bytes);
  const nms = m.graph?.node.find((n) => n.opType === 'BatchedNMSDynamic_TRT');
  t.ok(nms, 'has a BatchedNMSDynamic_TRT node');
  t.same(nms?.input, [TAO_BOXES, TAO_SCORES]);
  t.same(nms?.output, ['BatchedNMS', 'BatchedNMS_1', 'BatchedNMS_2', 'BatchedNMS_3']);
  t.same(m.graph?.input.map((i) => i.name), ['Input']);
  t.equal(m.graph?.node.filter((n) => n.opType === 'Conv').length, 5, 'five real convolutions');
});

t.test('stock ONNX Runtime rejects the TensorRT-only node', async (t) => {
  const bytes = generateYoloV3Onnx({ height: 64, width: 64 });
  await t.rejects(ort.InferenceSession.create(bytes, opts));
});

for (const [h, w] of [
  [384, 1248],
  [64, 96],
  [100, 70],
] as const) {
  t.test(`prepared ${h}×${w} model loads in onnxruntime-node and yields [N,boxes,1,4] and [N,boxes,C]`, async (t) => {
    const classes = 4;
    const prepared = prepareForOnnxRuntime(generateYoloV3Onnx({ height: h, width: w, classes, keepTopK: 100, scoreThreshold: 0.25, iouThreshold: 0.45 }));
    t.equal(prepared.inputName, 'Input');
    t.same(prepared.outputNames, [TAO_BOXES, TAO_SCORES]);
    t.same(prepared.nms, {
      shareLocation: true,
      backgroundLabelId: -1,
      numClasses: classes,
      topK: 200,
      keepTopK: 100,
      scoreThreshold: Math.fround(0.25),
      iouThreshold: Math.fround(0.45),
      isNormalized: true,
      clipBoxes: true,
      caffeSemantics: true,
      scoreBits: 16,
    });
    const session = await ort.InferenceSession.create(prepared.model, opts);
    t.same(session.outputNames, [TAO_BOXES, TAO_SCORES]);
    const n = 2;
    const input = new ort.Tensor('float32', new Float32Array(n * 3 * h * w).fill(10), [n, 3, h, w]);
    const out = await session.run({ Input: input });
    const boxes = yoloV3BoxCount({ height: h, width: w });
    t.same(out[TAO_BOXES]?.dims, [n, boxes, 1, 4]);
    t.same(out[TAO_SCORES]?.dims, [n, boxes, classes]);
    const b = out[TAO_BOXES]?.data as Float32Array;
    let ordered = true;
    for (let i = 0; i < b.length; i += 4) if (!(b[i]! < b[i + 2]! && b[i + 1]! < b[i + 3]!)) ordered = false;
    t.ok(ordered, 'every box is x1 < x2, y1 < y2');
    const s = out[TAO_SCORES]?.data as Float32Array;
    t.ok(s.every((v) => v >= 0 && v <= 1), 'scores are probabilities');
    await session.release();
  });
}

t.test('a graph without a TensorRT NMS node is passed through unchanged', async (t) => {
  const bytes = generateYoloV3Onnx({ height: 64, width: 64, withoutNms: true });
  const p = prepareForOnnxRuntime(bytes);
  t.equal(p.nms, null);
  t.equal(p.model, bytes);
  t.same(p.outputNames, [TAO_BOXES, TAO_SCORES]);
});

t.test('garbage is ONNX_INVALID, not a crash', async (t) => {
  t.throws(() => prepareForOnnxRuntime(new Uint8Array([0xff, 0xff, 0xff, 0x0f, 0x01])), { code: 'ONNX_INVALID' });
  t.throws(() => prepareForOnnxRuntime(new Uint8Array(0)), { code: 'ONNX_INVALID' });
});
