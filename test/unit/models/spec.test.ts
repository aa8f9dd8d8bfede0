import t from 'tap';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseSpec, specMessage, specScalar } from '../../../agent/src/models/spec-parse.js';
import { deriveFromSpec, type DeriveOptions } from '../../../agent/src/models/spec-derive.js';
import { formatWarning } from '../../../agent/src/models/spec-schema.js';
import { AgentError } from '../../../agent/src/core/errors.js';
import { REPO_ROOT } from '../../helpers/cli.js';

const SEED = path.join(REPO_ROOT, 'test', 'fixtures', 'specs', 'yolov3_kitti_seed.txt');

const err = (fn: () => unknown): AgentError => {
  try {
    fn();
  } catch (e) {
    if (e instanceof AgentError) return e;
    throw e;
  }
  throw new Error('expected a throw');
};

t.test('the seed YOLOv3 spec gives 3×384×1248, BatchedNMS, sorted classes and its NMS', async (t) => {
  const s = deriveFromSpec(parseSpec(readFileSync(SEED, 'utf8'), 'seed.txt'), 'seed.txt');
  t.equal(s.dims, '3,384,1248');
  t.same(s.outputs, ['BatchedNMS']);
  t.same(s.classes, ['car', 'cyclist', 'pedestrian'], 'van→car and person_sitting→pedestrian fold in; sorted');
  t.same(s.nms, { confidenceThreshold: 0.01, iouThreshold: 0.6, topK: 200 });
  t.equal(s.network, 'yolov3');
  t.equal(s.arch, 'darknet');
  t.equal(s.nlayers, 53);
  t.same(s.input, { name: 'Input', channels: 3, height: 384, width: 1248, depth: 8, colorOrder: 'bgr', mean: [103.939, 116.779, 123.68] });
  t.same([s.layout, s.warnings], ['tlt2', []], 'TLT 2.0 nested layout, every field known');
});

t.test('parser: nesting, repeated fields, lists, strings, floats, enums, comments', async (t) => {
  const m = parseSpec(
    [
      'a: 1  # comment',
      'b: "x" \'y\'  # adjacent strings concatenate',
      'c: 0.20000000298',
      'd: -5e-5; e: SAMPLE, f: true',
      'g { h: 1 } g: { h: 2 }',
      'l: [1, 2.5, -3]',
      'n < k: "q\\n\\"" >',
      'x: inf y: -inf z: 1.5f w: 0x1F',
    ].join('\n'),
  );
  const v = (name: string): unknown => {
    const s = specScalar(m, name);
    return s && s.kind !== 'message' ? s.value : undefined;
  };
  t.equal(v('a'), 1);
  t.equal(v('b'), 'xy');
  t.equal(v('c'), 0.20000000298);
  t.equal(v('d'), -5e-5);
  t.equal(v('e'), 'SAMPLE');
  t.equal(v('f'), 'true');
  t.equal(m.fields.filter((f) => f.name === 'g').length, 2, 'repeated message');
  t.same(m.fields.filter((f) => f.name === 'l').map((f) => (f.value.kind === 'number' ? f.value.value : null)), [1, 2.5, -3]);
  t.same(specScalar(specMessage(m, 'n'), 'k')?.value, 'q\n"');
  t.same([v('x'), v('y'), v('z'), v('w')], [Infinity, -Infinity, 1.5, 31]);
});

t.test('syntax errors carry line:column', async (t) => {
  const cases: [string, RegExp][] = [
    ['a {\n  b: 1\n', /spec\.txt:3:1: end of file inside the message opened at 1:3; missing "}"/],
    ['a: 1\nb 2\n', /spec\.txt:2:3: expected ":" or "\{" after field "b"/],
    ['a: 1\n  }\n', /spec\.txt:2:3: expected a field name, found "\}"/],
    ['a: "open\n', /spec\.txt:1:4: unterminated string/],
    ['a: 12abc\n', /spec\.txt:1:4: malformed number/],
    ['a: [1, 2\n', /spec\.txt:2:1: expected "," or "\]"/],
    ['a: @\n', /spec\.txt:1:4: unexpected character "@"/],
    ['a:\n', /spec\.txt:2:1: expected a value for "a", found end of file/],
  ];
  for (const [text, re] of cases) {
    const e = err(() => parseSpec(text, 'spec.txt'));
    t.equal(e.code, 'SPEC_SYNTAX', JSON.stringify(text));
    t.match(e.message, re, JSON.stringify(text));
  }
});

t.test('derivation: image_mean override, grayscale, missing size, wrong types, unknown network', async (t) => {
  const base = 'augmentation_config { preprocessing { output_image_width: 960 output_image_height: 544 output_image_channel: 3 } %MEAN% }\n';
  const withMean = base.replace('%MEAN%', 'image_mean { key: "r" value: 120.0 } image_mean { key: "g" value: 110 } image_mean { key: "b" value: 100 }');
  const s = deriveFromSpec(parseSpec('yolov4_config { arch: "cspdarknet_tiny" }\n' + withMean));
  t.same(s.input.mean, [100, 110, 120], 'b, g, r order regardless of spec order');
  t.equal(s.network, 'yolov4-tiny');
  t.equal(s.dims, '3,544,960');
  const gray = deriveFromSpec(parseSpec('augmentation_config { preprocessing { output_image_width: 64 output_image_height: 32 output_image_channel: 1 } }'));
  t.same([gray.input.channels, gray.input.colorOrder, gray.input.mean, gray.network, gray.outputs], [1, 'gray', [117.3786], null, null]);
  t.match(err(() => deriveFromSpec(parseSpec('yolo_config { arch: "resnet" }'), 'x.txt')), { code: 'SPEC_INVALID', message: /output_image_width/ });
  t.match(err(() => deriveFromSpec(parseSpec(base.replace('960', '"wide"').replace('%MEAN%', ''), 'x.txt'), 'x.txt')), {
    code: 'SPEC_INVALID',
    message: /x\.txt:1:59: augmentation_config\.preprocessing\.output_image_width must be a number/,
  });
  t.match(err(() => deriveFromSpec(parseSpec(base.replace('%MEAN%', 'image_mean { key: "b" value: 1 }')))), { code: 'SPEC_INVALID', message: /lacks g, r/ });
  t.match(err(() => deriveFromSpec(parseSpec(base.replace('%MEAN%', '') + 'nms_config { top_k: 200 }'))), { code: 'SPEC_INVALID', message: /nms_config needs/ });
});

// A minimal TAO 3.0+ YOLOv4 spec; %AUG%, %NMS%, %DATA% and %TOP% are replaced per case.
const TAO = [
  'yolov4_config { arch: "resnet" nlayers: 18 big_anchor_shape: "[(1,2)]" mid_anchor_shape: "[(3,4)]" small_anchor_shape: "[(5,6)]" }',
  'nms_config { confidence_threshold: 0.3 clustering_iou_threshold: 0.5 top_k: 100 %NMS% }',
  'augmentation_config {',
  '  output_width: 960',
  '  output_height: 544',
  '  %AUG%',
  '}',
  'dataset_config {',
  '  data_sources { label_directory_path: "/l" image_directory_path: "/i" }',
  '  target_class_mapping { key: "car" value: "car" }',
  '  %DATA%',
  '}',
  '%TOP%',
].join('\n');
const spec = (over: Partial<Record<'AUG' | 'NMS' | 'DATA' | 'TOP', string>> = {}): string => TAO.replace(/%(AUG|NMS|DATA|TOP)%/g, (_, k: 'AUG' | 'NMS' | 'DATA' | 'TOP') => over[k] ?? '');
const summary = (text: string, opts?: DeriveOptions) => deriveFromSpec(parseSpec(text, 'tao.txt'), 'tao.txt', opts);
const warnings = (text: string, opts?: DeriveOptions): string[] => summary(text, opts).warnings.map(formatWarning);
const FLAGS = { input: '--input C,H,W', classes: '--classes a,b,c', network: '--network NET' };

t.test('TAO 3.0+ flat layout: output_channel 1 or 3, absent = 3 with a warning, anything else refused', async (t) => {
  t.same([summary(spec({ AUG: 'output_channel: 3' })).dims, summary(spec({ AUG: 'output_channel: 3' })).layout], ['3,544,960', 'tao']);
  const gray = summary(spec({ AUG: 'output_channel: 1' }));
  t.same([gray.dims, gray.input.colorOrder, gray.input.mean, gray.input.depth], ['1,544,960', 'gray', [117.3786], 8]);
  const absent = summary(spec());
  t.equal(absent.dims, '3,544,960');
  t.match(absent.warnings.map(formatWarning), [/^tao\.txt:4:3: augmentation_config\.output_channel is absent: taken as 3/]);
  t.match(err(() => summary(spec({ AUG: 'output_channel: 2' }))), { code: 'SPEC_INVALID', message: /tao\.txt:6:3: augmentation_config\.output_channel must be 1 or 3, got 2/ });
  t.match(err(() => summary(spec({ AUG: 'output_channel: 3' }).replace('output_width: 960', 'output_width: 950'))), {
    code: 'SPEC_INVALID',
    message: /output_width 950 must be a multiple of 32/,
  });
  t.match(err(() => summary(spec({ AUG: 'preprocessing { output_image_width: 960 output_image_height: 544 }' }))), { code: 'SPEC_INVALID', message: /mixes the TLT 2\.0 layout .* and the TAO 3\.0\+ layout/ });
  t.match(err(() => summary(spec().replace('output_height: 544', ''))), { code: 'SPEC_INVALID', message: /augmentation_config\.output_width and output_height are required/ });
});

t.test('16-bit grayscale: default mean 117.3786 × 256, RGB 16-bit and other depths refused', async (t) => {
  const g16 = summary(spec({ AUG: 'output_channel: 1 output_depth: 16' }));
  t.same([g16.input.depth, g16.input.mean], [16, [30048.9216]]);
  t.same(summary(spec({ AUG: 'output_channel: 1 output_depth: 8' })).input.mean, [117.3786]);
  t.match(err(() => summary(spec({ AUG: 'output_channel: 3 output_depth: 16' }))), { code: 'SPEC_INVALID', message: /output_depth 16 needs output_channel 1/ });
  t.match(err(() => summary(spec({ AUG: 'output_channel: 1 output_depth: 12' }))), { code: 'SPEC_INVALID', message: /output_depth must be 8 or 16, got 12/ });
});

t.test('image_mean: single-quoted keys in any order, case-sensitive, a repeated key keeps the last value', async (t) => {
  const m = "image_mean { key: 'r' value: 120 } image_mean { key: 'g' value: 110 } image_mean { key: 'b' value: 100 }";
  t.same(summary(spec({ AUG: `output_channel: 3 ${m}` })).input.mean, [100, 110, 120], 'B, G, R tensor order');
  const twice = summary(spec({ AUG: `output_channel: 3 ${m} image_mean { key: 'b' value: 99 }` }));
  t.same(twice.input.mean, [99, 110, 120]);
  t.match(twice.warnings.map(formatWarning), [/image_mean "b" is given twice: the last value wins/]);
  t.match(err(() => summary(spec({ AUG: "output_channel: 3 image_mean { key: 'B' value: 1 } image_mean { key: 'g' value: 1 } image_mean { key: 'r' value: 1 }" }))), {
    code: 'SPEC_INVALID',
    message: /image_mean lacks b for a 3-channel input .*case-sensitive/,
    hint: 'Fix the experiment spec.',
  });
  const gray = summary(spec({ AUG: "output_channel: 1 image_mean { key: 'l' value: 90.5 } image_mean { key: 'r' value: 1 }" }));
  t.same(gray.input.mean, [90.5]);
  t.match(gray.warnings.map(formatWarning), [/image_mean key 'r' is not used by a 1-channel model/]);
});

t.test('classes: values deduplicated and sorted by code point; mixed case follows the training data loader', async (t) => {
  const map = (pairs: [string, string][]): string => pairs.map(([k, v]) => `target_class_mapping { key: "${k}" value: "${v}" }`).join(' ');
  t.same(summary(spec({ AUG: 'output_channel: 3', DATA: map([['b', 'zebra'], ['c', 'ant'], ['d', 'zebra'], ['e', 'élan'], ['f', 'bee']]) })).classes, ['ant', 'bee', 'car', 'zebra', 'élan']);
  const seq = summary(spec({ AUG: 'output_channel: 3', DATA: map([['t', 'Truck'], ['b', 'bus']]) }));
  t.same(seq.classes, ['bus', 'car', 'truck'], 'label_directory_path: lower-cased names, as detection_data_sequence.py');
  t.match(seq.warnings.map(formatWarning), [/not all lower case.*using the lower-cased order/]);
  const tfr = summary(spec({ AUG: 'output_channel: 3', DATA: map([['t', 'Truck'], ['b', 'bus']]) }).replace('label_directory_path: "/l"', 'tfrecords_path: "/r*"'));
  t.same(tfr.classes, ['Truck', 'bus', 'car'], 'tfrecords_path: case kept, as tf_data_pipe.py and labels.txt');
  const remap = summary(spec({ AUG: 'output_channel: 3', DATA: map([['car', 'vehicle']]) }));
  t.same(remap.classes, ['vehicle'], 'a repeated key keeps its last value');
  t.match(remap.warnings.map(formatWarning), [/key "car" is mapped twice \("car", "vehicle"\): the last wins/]);
  const none = summary(spec({ AUG: 'output_channel: 3' }).replace('target_class_mapping { key: "car" value: "car" }', ''), { flags: FLAGS });
  t.same(none.classes, []);
  t.match(none.warnings.map(formatWarning), [/no target_class_mapping.*pass --classes a,b,c/]);
});

t.test('NMS: exporter attributes, score bits, plugin limits, missing values', async (t) => {
  const s = summary(spec({ AUG: 'output_channel: 3', NMS: 'infer_nms_score_bits: 10 force_on_cpu: True' }));
  t.same(s.nmsPlugin, { shareLocation: 1, backgroundLabelId: -1, numClasses: 1, topK: 200, keepTopK: 100, scoreThreshold: 0.3, iouThreshold: 0.5, clipBoxes: 1, isNormalized: 1, scoreBits: 10 });
  t.same(s.warnings, []);
  t.match(warnings(spec({ AUG: 'output_channel: 3', NMS: 'force_on_cpu: maybe' })), [/force_on_cpu is not a boolean/]);
  const big = spec({ AUG: 'output_channel: 3' }).replace('top_k: 100', 'top_k: 3000');
  t.match(warnings(big), [/top_k 3000: tao export sets the plugin's topK to 6000, above the 4096/]);
  t.match(err(() => summary(big.replace('top_k: 3000', 'top_k: 5000'))), { code: 'SPEC_INVALID', message: /top_k 5000 is above 4096/ });
  t.match(err(() => summary(spec({ AUG: 'output_channel: 3' }).replace('clustering_iou_threshold: 0.5', 'clustering_iou_threshold: 0'))), { code: 'SPEC_INVALID', message: /clustering_iou_threshold must be within \(0, 1\], got 0/ });
  t.match(err(() => summary(spec({ AUG: 'output_channel: 3' }).replace('top_k: 100', ''))), { code: 'SPEC_INVALID', message: /nms_config needs top_k/ });
  const noConf = summary(spec({ AUG: 'output_channel: 3' }).replace('confidence_threshold: 0.3', ''));
  t.same([noConf.nms?.confidenceThreshold, noConf.nmsPlugin?.scoreThreshold], [0, 0], 'protobuf default');
  t.match(noConf.warnings.map(formatWarning), [/confidence_threshold is absent: protobuf reads 0/]);
});

t.test('unknown fields are kept and warned about with file:line:col, never refused', async (t) => {
  const text = spec({
    AUG: 'output_channel: 3\n  output_dtype: "float16"',
    DATA: 'data_sources { label_directory_path: "/v" image_directory_path: "/w" label_cache: true }',
    TOP: 'export_config { onnx_opset: 17 }\nnms_config2 { }',
  });
  const s = summary(text);
  t.equal(s.dims, '3,544,960', 'still derives');
  t.same(s.warnings.map(formatWarning), [
    'tao.txt:7:3: unknown field "output_dtype" in augmentation_config: kept in the packaged spec, ignored by the agent',
    'tao.txt:12:72: unknown field "label_cache" in dataset_config.data_sources: kept in the packaged spec, ignored by the agent',
    'tao.txt:14:1: unknown field "export_config" at the top level: kept in the packaged spec, ignored by the agent',
    'tao.txt:15:1: unknown field "nms_config2" at the top level: kept in the packaged spec, ignored by the agent',
  ]);
  t.ok(parseSpec(text).fields.some((f) => f.name === 'export_config'), 'kept in the tree');
  t.same(warnings(spec({ AUG: 'output_channel: 3', TOP: 'training_config { visualizer { enabled: False future_knob: 1 } anything_new: 2 }' })), [], 'training_config is not read, so not checked');
  t.match(warnings(spec({ AUG: 'output_channel: 3 hue { }' })), [/"hue" in augmentation_config should be a value, not a message/]);
  t.match(err(() => summary(spec({ AUG: 'output_channel: 3', NMS: 'top_k { }' }))), { code: 'SPEC_INVALID', message: /nms_config\.top_k must be a number/ }, 'a field the agent reads must have the right kind');
});

t.test('a command-line value replaces the spec value; hints name a flag only where the caller has one', async (t) => {
  const noSize = spec({ AUG: 'output_channel: 3' }).replace('output_width: 960', '').replace('output_height: 544', '');
  const bare = err(() => summary(noSize));
  t.equal(bare.code, 'SPEC_INVALID');
  t.equal(bare.hint, 'Fix the experiment spec.', 'spec show has no --input: the hint does not offer it');
  const withFlags = err(() => summary(noSize, { flags: FLAGS }));
  t.equal(withFlags.hint, "Fix the experiment spec, or pass --input C,H,W on the command line (it replaces the spec's value).");
  const over = summary(noSize, { flags: FLAGS, overrides: { dims: { c: 3, h: 384, w: 1248 } } });
  t.same([over.dims, over.overridden], ['3,384,1248', ['input']]);
  t.match(over.warnings.map(formatWarning), [/output_width and output_height are required .*: not used, --input C,H,W was given/]);
  const replaced = summary(spec({ AUG: 'output_channel: 3' }), { flags: FLAGS, overrides: { dims: { c: 1, h: 256, w: 512 } } });
  t.same([replaced.dims, replaced.input.colorOrder, replaced.input.mean], ['1,256,512', 'gray', [117.3786]], 'channels, size and mean follow --input');
  t.match(replaced.warnings.map(formatWarning), [/tao\.txt:4:3: the spec's input 3,544,960 is replaced by --input C,H,W 1,256,512/]);
  const bad = spec({ AUG: 'output_channel: 7' });
  t.equal(summary(bad, { flags: FLAGS, overrides: { dims: { c: 3, h: 64, w: 64 } } }).dims, '3,64,64', 'a bad spec size does not block a given --input');
  t.match(err(() => summary(spec({ AUG: "output_channel: 3 image_mean { key: 'b' value: 1 }" }), { flags: FLAGS })).hint, /^Fix the experiment spec\.$/, 'no flag replaces the mean: none offered');
  const cls = summary(spec({ AUG: 'output_channel: 3' }).replace('value: "car"', ''), { flags: FLAGS, overrides: { classes: ['auto', 'bike'] } });
  t.same([cls.classes, cls.overridden], [['auto', 'bike'], ['classes']]);
  t.match(cls.warnings.map(formatWarning), [/has no value: not used, --classes a,b,c was given/]);
  t.match(err(() => summary(spec({ AUG: 'output_channel: 3' }).replace('value: "car"', ''), { flags: FLAGS })).hint, /pass --classes a,b,c on the command line/);
  const diff = summary(spec({ AUG: 'output_channel: 3' }), { flags: FLAGS, overrides: { classes: ['a', 'b'] } });
  t.match(diff.warnings.map(formatWarning), [/the spec's classes \[car\] are replaced by --classes a,b,c \[a, b\] \(2 instead of the spec's 1: the model's class count must match\)/]);
});

t.test('parser: field positions, `1.` floats, True/False identifiers', async (t) => {
  const m = parseSpec('a: 1.\n  b: True\nc { d: False }\n');
  t.same(m.fields.map((f) => [f.name, f.pos.line, f.pos.col]), [
    ['a', 1, 1],
    ['b', 2, 3],
    ['c', 3, 1],
  ]);
  t.same([specScalar(m, 'a')?.value, specScalar(m, 'b')?.value, specScalar(specMessage(m, 'c'), 'd')?.value], [1, 'True', 'False']);
});
