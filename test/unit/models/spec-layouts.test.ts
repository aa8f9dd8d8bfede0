/**
 * Every spec layout NVIDIA publishes for TAO 3.x–5.x YOLOv3 / YOLOv4 / YOLOv4-tiny (and the
 * seed's TLT 2.0 one), as our own fixtures: dims, channels, depth, mean, classes, NMS, the
 * BatchedNMS attributes tao export writes, anchors, and no warning beyond the expected ones.
 */
import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { parseSpec } from '../../../agent/src/models/spec-parse.js';
import { deriveFromSpec } from '../../../agent/src/models/spec-derive.js';
import { formatWarning } from '../../../agent/src/models/spec-schema.js';
import { buildManifest } from '../../../agent/src/models/package-manifest.js';
import { SPEC_DIR, SPEC_EXPECTATIONS, specPath } from '../../helpers/spec-fixtures.js';

const derive = (file: string) => deriveFromSpec(parseSpec(readFileSync(specPath(file), 'utf8'), file), file);

t.test('the table covers every fixture, at least 12 TAO 3–5 layouts, all three networks', async (t) => {
  t.same(readdirSync(SPEC_DIR).filter((f) => f.endsWith('.txt')).sort(), SPEC_EXPECTATIONS.map((e) => e.file).sort());
  const tao = SPEC_EXPECTATIONS.filter((e) => e.layout === 'tao');
  t.ok(tao.length >= 12, `${tao.length} TAO 3.0+ layouts`);
  t.same([...new Set(tao.map((e) => e.network))].sort(), ['yolov3', 'yolov4', 'yolov4-tiny']);
});

for (const e of SPEC_EXPECTATIONS) {
  t.test(e.file, async (t) => {
    const s = derive(e.file);
    t.equal(s.layout, e.layout, 'layout');
    t.same([s.network, s.arch, s.nlayers], [e.network, e.arch, e.nlayers], 'network, arch, nlayers');
    t.equal(s.dims, `${e.c},${e.h},${e.w}`, '-d C,H,W');
    t.same(
      s.input,
      { name: 'Input', channels: e.c, height: e.h, width: e.w, depth: e.depth, colorOrder: e.c === 3 ? 'bgr' : 'gray', mean: e.mean },
      'input tensor',
    );
    t.same(s.classes, e.classes, 'classes: sorted unique target_class_mapping values');
    t.same(s.nms, e.nms, 'nms_config');
    t.same(
      s.nmsPlugin,
      {
        shareLocation: 1,
        backgroundLabelId: -1,
        numClasses: e.classes.length,
        topK: 2 * e.nms.topK,
        keepTopK: e.nms.topK,
        scoreThreshold: e.nms.confidenceThreshold,
        iouThreshold: e.nms.iouThreshold,
        clipBoxes: 1,
        isNormalized: 1,
        scoreBits: e.scoreBits,
      },
      'BatchedNMS attributes as tao export sets them',
    );
    t.same(s.anchors ? [s.anchors.big.length, s.anchors.mid.length, s.anchors.small.length] : null, e.anchors, 'anchor groups');
    t.same(s.outputs, ['BatchedNMS']);
    const lines = s.warnings.map(formatWarning);
    t.equal(lines.length, e.warnings.length, `warnings: ${lines.join(' | ') || 'none'}`);
    e.warnings.forEach((re, i) => t.match(lines[i], re));
    t.same(s.overridden, []);

    // The manifest package create would write from the spec alone.
    const m = buildManifest({ modelFileName: 'model.onnx', format: 'onnx', spec: { fileName: 'spec.txt', summary: s }, version: '1' });
    t.same([m.network, m.input.channels, m.input.height, m.input.width, m.classes, m.nms], [e.network, e.c, e.h, e.w, e.classes, e.nms]);
    if (e.depth === 16) t.same([m.input.mean, m.input.scale], [e.mean.map((x) => x / 256), 256], '16-bit: 8-bit pixels widened ×256');
    else t.same([m.input.mean, m.input.scale], [e.mean, 1]);
  });
}

t.test('anchor strings parse as (width, height) pairs', async (t) => {
  const s = derive('tf1_yolov4_tiny_multisource.txt');
  t.same(s.anchors?.mid, [
    [6, 6.5],
    [12, 11],
    [14, 27],
  ]);
  t.same(derive('tlt3_yolo_v3_darknet_coco.txt').anchors?.small, [
    [10, 13],
    [16, 30],
    [33, 23],
  ], 'integer pairs without spaces');
});
