import t from 'tap';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createPackage } from '../../../agent/src/models/package.js';
import { addPackage, findPackage } from '../../../agent/src/models/store.js';
import { AgentError } from '../../../agent/src/core/errors.js';
import { sha256File } from '../../../agent/src/platform/fs.js';
import { MODEL_KEY, SEED_SPEC, writeEtlt } from '../../helpers/convert-fixture.js';
import { generateYoloV3Onnx } from '../../../agent/src/models/onnx/generate.js';
import { dynamicInput } from '../../helpers/onnx-faults.js';
import { specPath } from '../../helpers/spec-fixtures.js';
import { formatWarning } from '../../../agent/src/models/spec-schema.js';

async function err(p: Promise<unknown>): Promise<AgentError> {
  const e = await p.then(() => undefined, (x: unknown) => x);
  if (!(e instanceof AgentError)) throw new Error(`expected an AgentError, got ${String(e)}`);
  return e;
}

t.test('package create: derived fields, reproducible archive, intake round trip, golden', async (t) => {
  const dir = t.testdir({ golden: { 'a.jpg': 'jpeg-bytes', 'expected.json': JSON.stringify({ cases: [{ image: 'a.jpg', detections: [{ classId: 0, score: 0.9, box: { x1: 1, y1: 2, x2: 30, y2: 40 } }] }] }) } });
  const model = path.join(dir, 'yolo_darknet53.etlt');
  await writeEtlt(model, 'uff');
  const opts = { model, specFile: SEED_SPEC, version: '1.0.0', keyRef: 'yolo', goldenDir: path.join(dir, 'golden') };
  const a = await createPackage({ ...opts, out: path.join(dir, 'a.tar') });
  t.equal(a.manifest.name, 'yolo_darknet53', 'name from the model file');
  t.same([a.manifest.input.height, a.manifest.input.width, a.manifest.input.name], [384, 1248, 'Input']);
  t.same(a.manifest.classes, ['car', 'cyclist', 'pedestrian']);
  t.equal(a.manifest.spec, 'spec.txt');
  t.same(a.manifest.golden?.cases.map((c) => c.image), ['golden/a.jpg']);
  t.equal(a.sha256, await sha256File(path.join(dir, 'a.tar')));
  const b = await createPackage({ ...opts, out: path.join(dir, 'b.tar') });
  t.equal(b.sha256, a.sha256, 'same inputs → same bytes');

  const stateDir = path.join(dir, 'state');
  const { pkg } = await addPackage({ stateDir, file: a.file, expectedSha256: a.sha256, maxBytes: 1 << 26, now: () => new Date() });
  const stored = await findPackage(stateDir, `${pkg.name}@${pkg.version}`);
  t.same(stored.manifest, a.manifest, 'the stored model.json is what create derived');

  const override = await createPackage({ ...opts, classes: ['vehicle', 'person'], name: 'custom', out: path.join(dir, 'c.tar.gz') });
  t.same(override.manifest.classes, ['vehicle', 'person'], 'explicit --classes win over the spec');
});

t.test('package create refuses bad inputs with coded errors and writes no output', async (t) => {
  const dir = t.testdir({ 'bad.etlt': Buffer.from([0xff, 0xff, 0xff, 0xff, 1, 2, 3]), 'spec.txt': 'augmentation_config {' });
  const model = path.join(dir, 'm.etlt');
  await writeEtlt(model, 'onnx');
  const out = path.join(dir, 'out.tar');
  const keyFile = { name: 'file:k', value: 'not-' + MODEL_KEY };
  t.equal((await err(createPackage({ model: path.join(dir, 'bad.etlt'), out, version: '1', network: 'yolov3', dims: { c: 3, h: 32, w: 32 }, classes: ['a'], keyRef: 'k' }))).code, 'ETLT_CORRUPT');
  t.equal((await err(createPackage({ model, out, version: '1', network: 'yolov3', dims: { c: 3, h: 32, w: 32 }, classes: ['a'], keyRef: 'k', key: keyFile }))).code, 'ETLT_BAD_KEY');
  t.match(await err(createPackage({ model, out, specFile: path.join(dir, 'spec.txt'), version: '1', keyRef: 'k' })), { code: 'SPEC_SYNTAX', message: /spec\.txt:1:22/ });
  t.match(await err(createPackage({ model, out, specFile: SEED_SPEC, keyRef: 'k' })), { code: 'USAGE', message: /--version is required/ });
  t.match(await err(createPackage({ model, out, version: '1', classes: ['a'], keyRef: 'k', dims: { c: 3, h: 32, w: 32 } })), { code: 'USAGE', message: /network is unknown/ });
  t.match(await err(createPackage({ model, out, specFile: SEED_SPEC, version: '1' })), { code: 'MODEL_MANIFEST_INVALID', message: /keyRef: required/ });
  t.match(await err(createPackage({ model, out, specFile: SEED_SPEC, version: '1', keyRef: 'k', precision: 'int8' })), { code: 'MODEL_MANIFEST_INVALID', message: /int8 precision needs/ });
  writeFileSync(path.join(dir, 'cal.bin'), 'not a calibration cache');
  t.match(await err(createPackage({ model, out, specFile: SEED_SPEC, version: '1', keyRef: 'k', precision: 'int8', calibration: path.join(dir, 'cal.bin') })), { code: 'PACKAGE_INVALID', message: /cal\.bin:1/ });
  mkdirSync(path.join(dir, 'g'));
  t.match(await err(createPackage({ model, out, specFile: SEED_SPEC, version: '1', keyRef: 'k', goldenDir: path.join(dir, 'g') })), { code: 'USAGE', message: /no expected\.json/ });
  const notOnnx = path.join(dir, 'x.onnx');
  writeFileSync(notOnnx, 'plain text, not a model');
  t.equal((await err(createPackage({ model: notOnnx, out, specFile: SEED_SPEC, version: '1' }))).code, 'PACKAGE_INVALID');
  t.notOk(existsSync(out), 'no package written');
  t.same(readdirSync(dir).filter((n) => n.startsWith('.')), [], 'no staging or temp files left');
  writeFileSync(path.join(dir, 'ok.onnx'), generateYoloV3Onnx({ height: 384, width: 1248, classes: 3 }));
  const ok = await createPackage({ model: path.join(dir, 'ok.onnx'), out, specFile: SEED_SPEC, version: '1' });
  t.equal(ok.manifest.format, 'onnx');
  t.equal(ok.manifest.keyRef, undefined);
});

t.test('package create with TAO 5 specs: --input / --classes replace the spec, warnings carry file:line', async (t) => {
  const tao5 = specPath('tao5_yolo_v4_train_tfrecord.txt');
  const dir = t.testdir({ 'nosize.txt': readFileSync(tao5, 'utf8').replace(/ {2}output_(width|height): \d+\n/g, '') });
  const model = path.join(dir, 'm.onnx');
  // One TAO-shaped graph with a dynamic input for every spec below (sizes and channels vary).
  writeFileSync(model, dynamicInput(generateYoloV3Onnx({ height: 64, width: 64, classes: 4 })));
  const out = path.join(dir, 'p.tar');
  const plain = await createPackage({ model, out, specFile: tao5, version: '1' });
  t.same([plain.manifest.network, plain.manifest.input.height, plain.manifest.input.width, plain.manifest.classes, plain.warnings], ['yolov4', 736, 1280, ['bus', 'car', 'pedestrian', 'two_wheeler'], []]);

  const replaced = await createPackage({ model, out, specFile: tao5, version: '1', dims: { c: 3, h: 384, w: 1248 }, specFlags: { input: '--input C,H,W' } });
  t.same([replaced.manifest.input.channels, replaced.manifest.input.height, replaced.manifest.input.width], [3, 384, 1248], '--input wins');
  t.match(replaced.warnings.map(formatWarning), [/tao5_yolo_v4_train_tfrecord\.txt:\d+:\d+: the spec's input 3,736,1280 is replaced by --input C,H,W 3,384,1248/]);

  const noSize = path.join(dir, 'nosize.txt');
  const refused = await err(createPackage({ model, out: path.join(dir, 'q.tar'), specFile: noSize, version: '1', specFlags: { input: '--input C,H,W' } }));
  t.match(refused, { code: 'SPEC_INVALID', message: /nosize\.txt.*output_width and output_height are required/, hint: /pass --input C,H,W on the command line/ });
  t.notOk(existsSync(path.join(dir, 'q.tar')), 'nothing written');
  const rescued = await createPackage({ model, out, specFile: noSize, version: '1', dims: { c: 3, h: 544, w: 960 } });
  t.same([rescued.manifest.input.height, rescued.manifest.input.width], [544, 960]);

  const gray = await createPackage({ model, out, specFile: specPath('tao5_yolo_v4_16bit_grayscale.txt'), version: '1' });
  t.same([gray.manifest.input.channels, gray.manifest.input.colorOrder, gray.manifest.input.mean, gray.manifest.input.scale], [1, 'gray', [110], 256]);
});
