import t from 'tap';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseSpec, specMessage, specScalar } from '../../../agent/src/models/spec-parse.js';
import { deriveFromSpec } from '../../../agent/src/models/spec-derive.js';
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
  t.same(s.input, { name: 'Input', channels: 3, height: 384, width: 1248, colorOrder: 'bgr', mean: [103.939, 116.779, 123.68] });
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
