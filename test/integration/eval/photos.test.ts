import t from 'tap';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { FLEET_JS, REPO_ROOT, runCli } from '../../helpers/cli.js';
import { NetworkType } from '../../../agent/src/core/contracts/model.js';

// Our own labels for the shared real photos (test/fixtures/photo-labels/README.md). The
// detections below are the ones ../shared/models/README.md gives for yolox_nano on these photos.
const SHARED = path.join(REPO_ROOT, '..', 'shared', 'models');
const PHOTOS = path.join(SHARED, 'photos');
const missing = !existsSync(path.join(PHOTOS, 'dog.jpg'));
if (missing && process.env.JETSON_AGENT_REQUIRE_SHARED_MODELS) t.fail(`${PHOTOS} is missing and JETSON_AGENT_REQUIRE_SHARED_MODELS is set`);
const skip = missing ? `the shared photos (${PHOTOS}) are not in this clone` : false;

const spec = `dataset_config {
${['bicycle', 'car', 'dog', 'horse', 'motorcycle', 'person', 'truck'].map((c) => `  target_class_mapping { key: "${c}" value: "${c}" }`).join('\n')}
}
eval_config { average_precision_mode: SAMPLE matching_iou_threshold: 0.5 }
nms_config { confidence_threshold: 0.3 clustering_iou_threshold: 0.45 top_k: 100 }
`;

async function photoSet(dir: string): Promise<void> {
  await mkdir(path.join(dir, 'image'), { recursive: true });
  await mkdir(path.join(dir, 'label'), { recursive: true });
  for (const n of ['dog', 'person']) {
    await copyFile(path.join(PHOTOS, `${n}.jpg`), path.join(dir, 'image', `${n}.jpg`));
    await copyFile(path.join(REPO_ROOT, 'test', 'fixtures', 'photo-labels', `${n}.txt`), path.join(dir, 'label', `${n}.txt`));
  }
  await writeFile(path.join(dir, 'spec.txt'), spec);
}

t.test('the photo labels agree with the known yolox_nano detections', { skip }, async (t) => {
  const dir = t.testdir();
  await photoSet(dir);
  const preds = path.join(dir, 'preds');
  await mkdir(preds);
  await writeFile(path.join(preds, 'dog.txt'), ['dog 0 0 0 132.8 206.6 325.7 543.1 0 0 0 0 0 0 0 0.856', 'bicycle 0 0 0 55.3 137.0 572.3 423.4 0 0 0 0 0 0 0 0.804', 'car 0 0 0 466.3 78.3 692.4 171.3 0 0 0 0 0 0 0 0.797'].join('\n'));
  await writeFile(path.join(preds, 'person.txt'), ['person 0 0 0 188.4 97.0 276.5 371.2 0 0 0 0 0 0 0 0.880', 'dog 0 0 0 62.4 262.9 200.5 348.4 0 0 0 0 0 0 0 0.872', 'horse 0 0 0 404.0 138.0 602.4 342.8 0 0 0 0 0 0 0 0.869'].join('\n'));
  const check = await runCli(['dataset', 'check', dir, '--spec', path.join(dir, 'spec.txt'), '--json'], { script: FLEET_JS });
  const rep = JSON.parse(check.stdout) as { problems: { kind: string; message: string }[] };
  // The two photos differ in size (the seed wants one resolution per set); car has no object and
  // motorcycle only a difficult one: the check says all three. The evaluation letterboxes each
  // photo like TAO does, so it goes ahead (empty classes allowed explicitly).
  t.same(rep.problems.map((p) => p.kind).sort(), ['empty-class', 'empty-class', 'resolution']);
  const r = await runCli(['evaluate', '--detections', preds, '--dataset', dir, '--spec', path.join(dir, 'spec.txt'), '--allow-empty-class', '--json'], { script: FLEET_JS });
  t.equal(r.code, 0, r.stderr);
  const ev = JSON.parse(r.stdout) as { map: number; mapWithGroundTruth: number; classes: { name: string; ap: number; tp: number; fp: number }[] };
  const ap = Object.fromEntries(ev.classes.map((c) => [c.name, Math.round(c.ap * 1e6) / 1e6]));
  // dog, bicycle, person, horse found (IoU ≥ .82 each); the pickup is a "car" to the model → a
  // car FP and a truck miss; the motorbike is difficult → not counted.
  t.same(ap, { bicycle: 1, car: 0, dog: 1, horse: 1, motorcycle: 0, person: 1, truck: 0 });
  t.ok(Math.abs(ev.map - 4 / 7) < 1e-9, `mAP ${ev.map} over 7 classes, as TAO averages`);
  t.ok(Math.abs(ev.mapWithGroundTruth - 4 / 5) < 1e-9);
});

// Running the real yolox_nano weights needs the YOLOX family (the detector-family issue), which
// is not on main yet: model.json's network has no "yolox". This test turns on by itself when it lands.
const yolox = NetworkType.anyOf.some((s) => (s as { const?: string }).const === 'yolox');
t.test('yolox_nano on the photos, evaluated with the real engine', { skip: yolox ? skip : 'YOLOX support (detector-family issue) has not landed: model.json network has no "yolox"' }, async (t) => {
  t.fail('YOLOX landed: serve yolox_nano.onnx through its family and evaluate it on the photo set like the test above (expect the same table).');
});
