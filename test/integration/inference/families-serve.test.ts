import t from 'tap';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { FLEET_JS, runCli } from '../../helpers/cli.js';
import { makeStack, noisyJpeg } from '../../helpers/inference.js';
import { generateFamilyOnnx, type FamilyModelOptions, type PlantedObject } from '../../../agent/src/models/onnx/generate-families.js';
import type { ModelManifest } from '../../../agent/src/core/contracts/model.js';

// Each family other than TAO's: a generated ONNX graph of the family's exact I/O signature
// (docs/reference/model-families.md) whose outputs encode two planted objects, in float32 and
// float16 I/O. Intake is the real `jetson-fleet package create` (the family is read from the
// graph); serving is the real ONNX Runtime worker, the family's decoder and /v1/detect. The photo
// is the input's size, so a planted box in model-input pixels is the answer in photo pixels.
const W = 160;
const H = 96;
const CLASSES = ['car', 'person', 'dog'];
const OBJECTS: PlantedObject[] = [
  { cls: 2, score: 0.9, x1: 16, y1: 16, x2: 64, y2: 80 },
  { cls: 0, score: 0.8, x1: 96, y1: 32, x2: 144, y2: 64 },
];
const FAMILIES: FamilyModelOptions['family'][] = ['efficient-nms', 'onnx-nms', 'detectnet-v2', 'yolov5', 'yolov8', 'yolo-end2end', 'yolox', 'detr'];

for (const family of FAMILIES) {
  for (const fp16 of [false, true]) {
    t.test(`${family}${fp16 ? ' (fp16 I/O)' : ''}: package create detects it, /v1/detect finds the planted objects`, async (t) => {
      const dir = t.testdir();
      const onnx = path.join(dir, 'm.onnx');
      writeFileSync(onnx, generateFamilyOnnx({ family, height: H, width: W, classes: CLASSES.length, objects: OBJECTS, fp16 }));
      const pkg = path.join(dir, 'm.tar');
      const created = await runCli(['package', 'create', '--model', onnx, '--name', 'planted', '--version', '1', '--classes', CLASSES.join(','), '--precision', 'fp32', '--out', pkg, '--json'], { script: FLEET_JS });
      t.equal(created.code, 0, created.stderr);
      if (created.code !== 0) return;
      const model = (JSON.parse(created.stdout) as { manifest: ModelManifest }).manifest;
      t.equal(model.family, family, 'the family read from the graph');
      if (fp16) t.equal(model.input.dtype, 'float16');
      const s = makeStack();
      t.teardown(() => s.close());
      const bytes = generateFamilyOnnx({ family, height: H, width: W, classes: CLASSES.length, objects: OBJECTS, fp16 });
      const servable = { kind: 'onnxruntime' as const, onnxPath: `memory:planted-${family}-${fp16}`, model, packageSha256: createHash('sha256').update(bytes).digest('hex'), nms: null, outputNames: [] };
      s.shelf.bytes.set(servable.onnxPath, bytes);
      s.shelf.servables.push(servable);
      await s.service.activate(servable);
      const res = await s.app.inject({ method: 'POST', url: '/v1/detect', headers: { 'content-type': 'image/jpeg' }, payload: await noisyJpeg(W, H) });
      t.equal(res.statusCode, 200, res.body);
      const dets = res.json<{ detections: { label: string; score: number; box: { x1: number; y1: number; x2: number; y2: number } }[] }>().detections;
      t.equal(dets.length, OBJECTS.length, `two detections (${JSON.stringify(dets)})`);
      for (const o of OBJECTS) {
        const d = dets.find((x) => x.label === CLASSES[o.cls]);
        t.ok(d, `${CLASSES[o.cls]} found`);
        if (!d) continue;
        t.ok(Math.abs(d.score - o.score) < 0.01, `${d.label} score ${d.score} ≈ ${o.score}`);
        const err = Math.max(Math.abs(d.box.x1 - o.x1), Math.abs(d.box.y1 - o.y1), Math.abs(d.box.x2 - o.x2), Math.abs(d.box.y2 - o.y2));
        t.ok(err <= 1, `${d.label} box ${JSON.stringify(d.box)} within 1 px of the planted one`);
      }
    });
  }
}
