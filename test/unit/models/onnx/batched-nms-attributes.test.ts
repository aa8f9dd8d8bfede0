import t from 'tap';
import path from 'node:path';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { generateYoloV3Onnx } from '../../../../agent/src/models/onnx/generate.js';
import { prepareForOnnxRuntime, readTrtNmsAttributes } from '../../../../agent/src/models/onnx/prepare.js';
import { createPackage } from '../../../../agent/src/models/package.js';
import { AttrType, type Attribute } from '../../../../agent/src/models/onnx/onnx-proto.js';
import { SEED_SPEC } from '../../../helpers/convert-fixture.js';

/**
 * The BatchedNMS attributes as TensorRT OSS release/10.16's plugin creator reads them
 * (https://github.com/NVIDIA/TensorRT/blob/release/10.16/plugin/batchedNMSPlugin/batchedNMSPlugin.cpp),
 * and the intake refusals for models the real plugin refuses or that make it find nothing.
 */
const int = (name: string, i: number): Attribute => ({ name, type: AttrType.INT, i });
const float = (name: string, f: number): Attribute => ({ name, type: AttrType.FLOAT, f: Math.fround(f) });
const required = (): Attribute[] => [
  int('shareLocation', 1),
  int('backgroundLabelId', -1),
  int('numClasses', 3),
  int('topK', 400),
  int('keepTopK', 200),
  float('scoreThreshold', 0.01),
  float('iouThreshold', 0.6),
];
/** The attributes as the ONNX Runtime path reads them from a TAO-shaped graph carrying `attrs` on its NMS node. */
const readBatchedNmsAttributes = (attrs: Attribute[], _op?: string) =>
  prepareForOnnxRuntime(generateYoloV3Onnx({ height: 32, width: 32, classes: 3, editNmsAttributes: () => attrs })).nms!;
const OP = 'BatchedNMSDynamic_TRT';

t.test('absent optional attributes take the plugin defaults: isNormalized false, clipBoxes true, scoreBits 16, caffeSemantics true', async (t) => {
  // isNormalized: include/NvInferPluginUtils.h L197-L198; the others: batchedNMSPlugin.cpp L675-L677.
  const a = readBatchedNmsAttributes(required(), OP);
  t.equal(a.isNormalized, false, 'NMSParameters documents isNormalized as defaulting to false');
  t.equal(a.clipBoxes, true);
  t.equal(a.scoreBits, 16);
  t.equal(a.caffeSemantics, true);
});

t.test('scoreBits and caffeSemantics are read from the node [batchedNMSPlugin.cpp L735-L743]', async (t) => {
  const a = readBatchedNmsAttributes([...required(), int('isNormalized', 1), int('scoreBits', 8), int('caffeSemantics', 0)], OP);
  t.equal(a.isNormalized, true);
  t.equal(a.scoreBits, 8);
  t.equal(a.caffeSemantics, false);
});

t.test('booleans are the first byte of the int32 field [batchedNMSPlugin.cpp L695, L729]', async (t) => {
  t.equal(readBatchedNmsAttributes([...required(), int('isNormalized', 256)], OP).isNormalized, false);
  t.equal(readBatchedNmsAttributes([...required(), int('isNormalized', 2)], OP).isNormalized, true);
});

t.test('each required attribute missing is refused with its name [batchedNMSPlugin.cpp L679-L688]', async (t) => {
  for (const name of ['shareLocation', 'backgroundLabelId', 'numClasses', 'topK', 'keepTopK', 'scoreThreshold', 'iouThreshold']) {
    t.throws(() => readBatchedNmsAttributes(required().filter((a) => a.name !== name), OP), { code: 'NMS_ATTRIBUTES_INVALID', message: new RegExp(`"${name}"`) }, name);
  }
});

t.test('attributes of the wrong kind are refused [batchedNMSPlugin.cpp L698-L725]', async (t) => {
  const swap = (name: string, a: Attribute): Attribute[] => required().map((x) => (x.name === name ? a : x));
  t.throws(() => readBatchedNmsAttributes(swap('topK', float('topK', 400)), OP), { code: 'NMS_ATTRIBUTES_INVALID', message: /"topK" is not an integer/ });
  t.throws(() => readBatchedNmsAttributes(swap('scoreThreshold', int('scoreThreshold', 0)), OP), { code: 'NMS_ATTRIBUTES_INVALID', message: /"scoreThreshold" is not a float/ });
});

t.test('topK above 4096 is refused: checkParams fails the build [batchedNMSPlugin.cpp L54-L66]', async (t) => {
  const list = required().map((a) => (a.name === 'topK' ? int('topK', 4097) : a));
  t.throws(() => readBatchedNmsAttributes(list, OP), { code: 'NMS_ATTRIBUTES_INVALID', message: /topK 4097.*above 4096/ });
  t.equal(readBatchedNmsAttributes(required().map((a) => (a.name === 'topK' ? int('topK', 4096) : a)), OP).topK, 4096, '4096 itself is accepted');
});

t.test('keepTopK above topK is refused: the plugin returns zero detections [gatherNMSOutputs.cu L59-L60]', async (t) => {
  const list = required().map((a) => (a.name === 'keepTopK' ? int('keepTopK', 401) : a));
  t.throws(() => readBatchedNmsAttributes(list, OP), { code: 'NMS_ATTRIBUTES_INVALID', message: /keepTopK 401 > topK 400.*zero detections/ });
});

const withKeepTopK = (k: number) => (attrs: Attribute[]): Attribute[] => attrs.map((a) => (a.name === 'keepTopK' ? { ...a, i: k } : a));

t.test('graph surgery and the intake check refuse the same model', async (t) => {
  const bytes = generateYoloV3Onnx({ height: 64, width: 64, keepTopK: 100, editNmsAttributes: withKeepTopK(300) });
  t.throws(() => prepareForOnnxRuntime(bytes), { code: 'NMS_ATTRIBUTES_INVALID' });
  t.throws(() => readTrtNmsAttributes(bytes), { code: 'NMS_ATTRIBUTES_INVALID' });
  t.equal(readTrtNmsAttributes(generateYoloV3Onnx({ height: 64, width: 64, withoutNms: true })), null, 'no NMS node: nothing to check');
});

t.test('package create refuses a model whose plugin would find nothing, and writes no package', async (t) => {
  const dir = t.testdir({});
  const model = path.join(dir, 'yolo.onnx');
  writeFileSync(model, generateYoloV3Onnx({ height: 64, width: 64, classes: 3, keepTopK: 100, editNmsAttributes: withKeepTopK(300) }));
  const out = path.join(dir, 'yolo.tar');
  await t.rejects(createPackage({ model, out, version: '1', network: 'yolov3', classes: ['a', 'b', 'c'], dims: { c: 3, h: 64, w: 64 } }), {
    code: 'NMS_ATTRIBUTES_INVALID',
    message: /keepTopK 300 > topK 200/,
  });
  t.notOk(existsSync(out), 'no package file');
  // The same model with TAO's attributes packages fine.
  writeFileSync(model, generateYoloV3Onnx({ height: 64, width: 64, classes: 3, keepTopK: 100 }));
  const r = await createPackage({ model, out, version: '1', network: 'yolov3', classes: ['a', 'b', 'c'], dims: { c: 3, h: 64, w: 64 } });
  t.ok(existsSync(r.file));
});

t.test('package create refuses a TAO YOLO spec whose top_k exports a topK above 4096', async (t) => {
  const dir = t.testdir({});
  const seed = readFileSync(SEED_SPEC, 'utf8');
  t.match(seed, /top_k: 200/, 'the seed spec has top_k 200');
  const spec = path.join(dir, 'spec.txt');
  writeFileSync(spec, seed.replace('top_k: 200', 'top_k: 2049'));
  const model = path.join(dir, 'yolo.onnx');
  writeFileSync(model, generateYoloV3Onnx({ height: 384, width: 1248, classes: 3 }));
  const out = path.join(dir, 'yolo.tar');
  await t.rejects(createPackage({ model, out, version: '1', specFile: spec }), { code: 'NMS_ATTRIBUTES_INVALID', message: /top_k 2049 .* topK of 4098/ });
  t.notOk(existsSync(out));
  writeFileSync(spec, seed.replace('top_k: 200', 'top_k: 2048'));
  t.equal((await createPackage({ model, out, version: '1', specFile: spec })).manifest.nms.topK, 2048);
});
