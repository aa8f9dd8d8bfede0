import t from 'tap';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { CANONICAL_PATHS, chooseTool, converterArgs, engineCacheKey, shapeArgs, tltConverterArgs, trtexecArgs, type ArgInputs } from '../../../agent/src/convert/args.js';
import { validateManifest } from '../../../agent/src/models/manifest.js';
import { buildManifest } from '../../../agent/src/models/package-manifest.js';
import { parseSpec } from '../../../agent/src/models/spec-parse.js';
import { deriveFromSpec } from '../../../agent/src/models/spec-derive.js';
import { REPO_ROOT } from '../../helpers/cli.js';
import { manifestFor } from '../../helpers/model-package.js';
import { SPEC_EXPECTATIONS, specPath } from '../../helpers/spec-fixtures.js';

const seed = deriveFromSpec(parseSpec(readFileSync(path.join(REPO_ROOT, 'test', 'fixtures', 'specs', 'yolov3_kitti_seed.txt'), 'utf8')));
const manifest = buildManifest({ modelFileName: 'yolo.etlt', format: 'etlt', etltInputName: 'Input', spec: { fileName: 'spec.txt', summary: seed }, version: '1', keyRef: 'yolo' });
const paths = { model: '/pkg/yolo.etlt', engine: '/eng/model.engine', calibration: '/pkg/calibration.bin', key: 'nvidia_tlt' };
const base: ArgInputs = { manifest, format: 'etlt', payload: 'uff', precision: 'fp16', maxBatch: 1, workspaceBytes: 1 << 30, tensorrt: '7.1.3' };

t.test('seed spec → UFF .etlt: -d 3,384,1248 -o BatchedNMS and the documented flags', async (t) => {
  t.same(tltConverterArgs(base, paths), ['-k', 'nvidia_tlt', '-d', '3,384,1248', '-o', 'BatchedNMS', '-e', '/eng/model.engine', '-t', 'fp16', '-m', '1', '-w', '1073741824', '-i', 'nchw', '/pkg/yolo.etlt']);
  t.same(manifest.classes, ['car', 'cyclist', 'pedestrian']);
  t.same(manifest.nms, { confidenceThreshold: 0.01, iouThreshold: 0.6, topK: 200 });
});

t.test('ONNX payload → -p Input,1x…,<max>x…,<max>x… instead of -d; int8 adds -c', async (t) => {
  const a = tltConverterArgs({ ...base, payload: 'onnx', precision: 'int8', maxBatch: 8 }, paths);
  t.same(a.slice(0, 4), ['-k', 'nvidia_tlt', '-p', 'Input,1x3x384x1248,8x3x384x1248,8x3x384x1248']);
  t.notOk(a.includes('-d'));
  t.same(a.slice(a.indexOf('-t'), a.indexOf('-t') + 2), ['-t', 'int8']);
  t.same(a.slice(-3), ['-c', '/pkg/calibration.bin', '/pkg/yolo.etlt']);
  t.notOk(tltConverterArgs(base, paths).includes('-c'), 'no -c without int8');
});

t.test('plain .onnx → trtexec with shapes, precision and the workspace flag of the TensorRT version', async (t) => {
  const m = validateManifest(manifestFor({ maxBatch: 4 }));
  const i: ArgInputs = { manifest: m, format: 'onnx', payload: 'onnx', precision: 'fp16', maxBatch: 4, workspaceBytes: 1 << 30, tensorrt: '10.3.0' };
  t.same(trtexecArgs(i, { ...paths, model: '/pkg/model.onnx', key: undefined }), [
    '--onnx=/pkg/model.onnx',
    '--saveEngine=/eng/model.engine',
    '--minShapes=Input:1x3x384x1248',
    '--optShapes=Input:4x3x384x1248',
    '--maxShapes=Input:4x3x384x1248',
    '--memPoolSize=workspace:1024',
    '--fp16',
  ]);
  const old = trtexecArgs({ ...i, tensorrt: '8.2.1', precision: 'int8' }, paths);
  t.ok(old.includes('--workspace=1024'), 'TensorRT < 8.4 uses --workspace');
  t.same(old.slice(-2), ['--int8', '--calib=/pkg/calibration.bin']);
  t.equal(converterArgs(i, paths).tool, 'trtexec');
  t.equal(converterArgs(base, paths).tool, 'tlt-converter');
});

t.test('cache key: independent of key and paths, changes with TensorRT, arch, args, package', async (t) => {
  const canon = tltConverterArgs(base, CANONICAL_PATHS);
  t.notOk(canon.includes('nvidia_tlt'), 'no key in the canonical args');
  t.ok(canon.includes('***'));
  const k = { packageSha256: 'a'.repeat(64), tool: 'tlt-converter' as const, args: canon, tensorrt: '7.1.3', cudaArch: 53 };
  const key = engineCacheKey(k);
  t.match(key, /^[0-9a-f]{32}$/);
  t.equal(engineCacheKey({ ...k, args: tltConverterArgs(base, { ...CANONICAL_PATHS }) }), key, 'stable');
  for (const [label, other] of [
    ['TensorRT', { ...k, tensorrt: '8.0.1' }],
    ['arch', { ...k, cudaArch: 72 }],
    ['package', { ...k, packageSha256: 'b'.repeat(64) }],
    ['precision', { ...k, args: tltConverterArgs({ ...base, precision: 'fp32' }, CANONICAL_PATHS) }],
  ] as const) t.not(engineCacheKey(other), key, `${label} changes the key`);
});

t.test('tool choice: UFF → tlt-converter; .onnx → trtexec; ONNX .etlt → trtexec from TensorRT 8.6 (no tao-converter there)', async (t) => {
  t.equal(chooseTool('etlt', 'uff', '10.3.0'), 'tlt-converter');
  t.equal(chooseTool('onnx', 'onnx', '7.1.3'), 'trtexec');
  t.equal(chooseTool('etlt', 'onnx', '8.5.2'), 'tlt-converter');
  t.equal(chooseTool('etlt', 'onnx', '8.6.2'), 'trtexec');
  t.equal(chooseTool('etlt', 'onnx', '10.3.0'), 'trtexec');
});

t.test('every fixture spec → tao-converter -d / -p, -o, -i and trtexec shapes (max batch 4)', async (t) => {
  for (const e of SPEC_EXPECTATIONS) {
    const summary = deriveFromSpec(parseSpec(readFileSync(specPath(e.file), 'utf8')));
    const flag = (args: readonly string[], f: string): string | undefined => args[args.indexOf(f) + 1];
    const chw = `${e.c}x${e.h}x${e.w}`;
    const uffManifest = buildManifest({ modelFileName: 'm.etlt', format: 'etlt', etltInputName: 'Input', spec: { fileName: 'spec.txt', summary }, version: '1', keyRef: 'k' });
    const uff = tltConverterArgs({ ...base, manifest: uffManifest, maxBatch: 4 }, paths);
    t.same([flag(uff, '-d'), flag(uff, '-o'), flag(uff, '-i'), flag(uff, '-m')], [`${e.c},${e.h},${e.w}`, 'BatchedNMS', 'nchw', '4'], `${e.file}: UFF .etlt`);
    // ONNX-payload .etlt headers store no input name: the network's "Input" is used.
    const onnxManifest = buildManifest({ modelFileName: 'm.etlt', format: 'etlt', spec: { fileName: 'spec.txt', summary }, version: '1', keyRef: 'k' });
    const onnx = tltConverterArgs({ ...base, manifest: onnxManifest, payload: 'onnx', maxBatch: 4 }, paths);
    t.same([flag(onnx, '-p'), onnx.includes('-d')], [`Input,1x${chw},4x${chw},4x${chw}`, false], `${e.file}: ONNX .etlt`);
    const plain = buildManifest({ modelFileName: 'm.onnx', format: 'onnx', spec: { fileName: 'spec.txt', summary }, version: '1' });
    const trt = trtexecArgs({ ...base, manifest: plain, format: 'onnx', payload: 'onnx', maxBatch: 4, tensorrt: '10.3.0' }, { ...paths, key: undefined });
    t.same(trt.filter((a) => /^--(min|opt|max)Shapes=/.test(a)), [`--minShapes=Input:1x${chw}`, `--optShapes=Input:4x${chw}`, `--maxShapes=Input:4x${chw}`], `${e.file}: trtexec`);
  }
});

t.test('shapeArgs: the flags spec show prints are the ones conversion uses', async (t) => {
  const m = validateManifest(manifestFor({ maxBatch: 2 }));
  const s = shapeArgs(m, 2);
  const args = tltConverterArgs({ ...base, manifest: m, payload: 'onnx', maxBatch: 2 }, paths);
  t.equal(args[args.indexOf('-p') + 1], s.p);
  t.same(s, { d: '3,384,1248', p: 'Input,1x3x384x1248,2x3x384x1248,2x3x384x1248', o: 'BatchedNMS', i: 'nchw', minShapes: 'Input:1x3x384x1248', optShapes: 'Input:2x3x384x1248', maxShapes: 'Input:2x3x384x1248' });
});
