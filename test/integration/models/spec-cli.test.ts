/**
 * `spec show` and `jetson-fleet package create --spec` with TAO 3.0+ specs, as real
 * subprocesses of the built CLI: what is derived, warnings naming file:line, and a
 * command-line value that really replaces the spec's (the hint offers it only where it exists).
 */
import t from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runCli, FLEET_JS } from '../../helpers/cli.js';
import { generateYoloV3Onnx } from '../../../agent/src/models/onnx/generate.js';
import { dynamicInput } from '../../helpers/onnx-faults.js';
import { specPath } from '../../helpers/spec-fixtures.js';

const TAO5_V4 = specPath('tao5_yolo_v4_train_tfrecord.txt');

interface Created {
  manifest: { network: string; input: { channels: number; height: number; width: number; mean: number[]; scale: number }; classes: string[] };
  warnings: { file: string; line: number; message: string }[];
}

t.test('spec show: a TAO 5 YOLOv4 spec, text and JSON, converter flags for --max-batch', async (t) => {
  const text = await runCli(['spec', 'show', TAO5_V4]);
  t.equal(text.code, 0, text.stderr);
  t.equal(text.stderr, '', 'no warnings for NVIDIA’s layout');
  t.match(text.stdout, /network: {2}yolov4 \(resnet 10\)/);
  t.match(text.stdout, /layout: {3}TAO 3\.0\+ \(flat augmentation_config\)/);
  t.match(text.stdout, /input: {4}Input 3x736x1280 bgr 8-bit, mean \[103\.939, 116\.779, 123\.68\]/);
  t.match(text.stdout, /classes: {2}0 bus, 1 car, 2 pedestrian, 3 two_wheeler/);
  t.match(text.stdout, /BatchedNMS \(as tao export sets it\): shareLocation 1, backgroundLabelId -1, numClasses 4, topK 600, keepTopK 300, scoreThreshold 0\.001, iouThreshold 0\.5, clipBoxes 1, isNormalized 1, scoreBits 0/);
  t.match(text.stdout, /tao-converter: -d 3,736,1280 \(UFF \.etlt\) \| -p Input,1x3x736x1280,1x3x736x1280,1x3x736x1280 \(ONNX \.etlt\), -o BatchedNMS, -i nchw/);

  const json = await runCli(['spec', 'show', TAO5_V4, '--max-batch', '4', '--json']);
  t.equal(json.code, 0, json.stderr);
  const s = JSON.parse(json.stdout) as { dims: string; layout: string; converter: Record<string, unknown> };
  t.same([s.dims, s.layout], ['3,736,1280', 'tao']);
  t.match(s.converter, { maxBatch: 4, p: 'Input,1x3x736x1280,4x3x736x1280,4x3x736x1280', minShapes: 'Input:1x3x736x1280', maxShapes: 'Input:4x3x736x1280' });
});

t.test('spec show: unknown fields are warnings with file:line:col; a missing size is an error whose hint offers no flag', async (t) => {
  const base = readFileSync(TAO5_V4, 'utf8');
  const dir = t.testdir({
    'future.txt': base.replace('  mosaic_min_ratio:0.2\n', '  mosaic_min_ratio:0.2\n  output_dtype: "fp16"\n'),
    'nosize.txt': base.replace(/ {2}output_(width|height): \d+\n/g, ''),
  });
  const future = path.join(dir, 'future.txt');
  const line = base.split('\n').findIndex((l) => l.includes('mosaic_min_ratio')) + 2;
  const w = await runCli(['spec', 'show', future]);
  t.equal(w.code, 0, w.stderr);
  t.equal(w.stderr, `warning: ${future}:${line}:3: unknown field "output_dtype" in augmentation_config: kept in the packaged spec, ignored by the agent\n`);

  const bad = await runCli(['spec', 'show', path.join(dir, 'nosize.txt')]);
  t.equal(bad.code, 1);
  t.match(bad.stderr, /SPEC_INVALID: .*nosize\.txt.*augmentation_config\.output_width and output_height are required to derive the input size/);
  t.match(bad.stderr, /Fix the experiment spec\.\n$/);
  t.notMatch(bad.stderr, /command line/, 'spec show has no --input, so the hint does not offer one');
});

t.test('package create: --input really replaces the spec and rescues a spec without a size; --classes replaces its classes', async (t) => {
  const base = readFileSync(TAO5_V4, 'utf8');
  const dir = t.testdir({ 'nosize.txt': base.replace(/ {2}output_(width|height): \d+\n/g, '') });
  const model = path.join(dir, 'yolov4_resnet10.onnx');
  // A TAO-shaped graph with a dynamic input: the size comes from the spec or --input.
  writeFileSync(model, dynamicInput(generateYoloV3Onnx({ height: 64, width: 64, classes: 4 })));
  const create = (spec: string, more: string[]) =>
    runCli(['package', 'create', '--model', model, '--spec', spec, '--version', '1.0.0', '--out', path.join(dir, 'p.tar'), '--json', ...more], { script: FLEET_JS });

  const refused = await runCli(['package', 'create', '--model', model, '--spec', path.join(dir, 'nosize.txt'), '--version', '1.0.0', '--out', path.join(dir, 'p.tar')], { script: FLEET_JS });
  t.equal(refused.code, 1);
  t.match(refused.stderr, /SPEC_INVALID: .*output_width and output_height are required.* or pass --input C,H,W on the command line/);

  const rescued = await create(path.join(dir, 'nosize.txt'), ['--input', '3,384,1248']);
  t.equal(rescued.code, 0, rescued.stderr);
  const r = JSON.parse(rescued.stdout) as Created;
  t.same([r.manifest.input.channels, r.manifest.input.height, r.manifest.input.width], [3, 384, 1248]);
  t.match(rescued.stderr, /warning: .*nosize\.txt.*required to derive the input size: not used, --input C,H,W was given/);

  const replaced = await create(TAO5_V4, ['--input', '3,384,1248', '--classes', 'bus,car,person,bike']);
  t.equal(replaced.code, 0, replaced.stderr);
  const p = JSON.parse(replaced.stdout) as Created;
  t.same([p.manifest.input.height, p.manifest.input.width, p.manifest.classes], [384, 1248, ['bus', 'car', 'person', 'bike']], 'the flags win over 736x1280 and the spec classes');
  t.match(replaced.stderr, /warning: .*tao5_yolo_v4_train_tfrecord\.txt:\d+:\d+: the spec's input 3,736,1280 is replaced by --input C,H,W 3,384,1248/);
  t.match(replaced.stderr, /the spec's classes \[bus, car, pedestrian, two_wheeler\] are replaced by --classes a,b,c \[bus, car, person, bike\]/);
  t.equal(p.warnings.length, 2, 'the JSON result lists the same warnings');

  const gray = await create(specPath('tao5_yolo_v4_16bit_grayscale.txt'), []);
  t.equal(gray.code, 0, gray.stderr);
  t.match(JSON.parse(gray.stdout) as Created, { manifest: { input: { channels: 1, height: 512, width: 640, mean: [110], scale: 256 }, classes: ['animal', 'person'] }, warnings: [] });
});
