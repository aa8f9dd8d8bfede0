import t from 'tap';
import { checkDataset, type ScanResult, type ScannedImage } from '../../../agent/src/dataset/check.js';
import { parseKittiLabels } from '../../../agent/src/dataset/kitti-label.js';
import { planResize, scaleLabelText } from '../../../agent/src/dataset/resize-plan.js';

const img = (id: string, w = 100, h = 50, error: string | null = null): ScannedImage => ({ id, file: `image/${id}.png`, format: 'png', width: error ? null : w, height: error ? null : h, error });
const label = (id: string, ...lines: string[]) => ({ id, file: `label/${id}.txt`, text: lines.join('\n') + '\n' });
const line = (type: string, x1: number, y1: number, x2: number, y2: number, occ = 0) => `${type} 0.00 ${occ} 0.00 ${x1} ${y1} ${x2} ${y2} 1.5 1.6 3.8 0 0 0 0`;
const mapping = new Map([['car', 'car'], ['van', 'car'], ['pedestrian', 'pedestrian']]);

t.test('label lines: 15 fields, numbers where KITTI has numbers, an integer occlusion, ordered boxes', async (t) => {
  const r = parseKittiLabels(
    [line('Car', 1, 2, 30, 40), '', 'Car 0 0 0 1 2 3', 'Car 0.0 0 0 1 2 x 40 1 1 1 0 0 0 0', 'Car 0.0 0.00 0 1 2 30 40 1 1 1 0 0 0 0', line('Car', 30, 2, 30, 40), line('Car', 1, 2, 30, 40) + ' 0.9'].join('\n'),
  );
  t.equal(r.objects.length, 1);
  t.same(
    r.problems.map((p) => [p.line, p.kind]),
    [
      [3, 'fields'],
      [4, 'not-numeric'],
      [5, 'occlusion-not-integer'],
      [6, 'box-order'],
      [7, 'fields'],
    ],
  );
  t.match(r.problems[1]!.message, /field 7 \(bbox right\) is "x"/);
  t.match(r.problems[4]!.message, /16 fields: .*score/);
  const p = parseKittiLabels(line('car', 1, 2, 3, 4) + ' 1.5', 'predictions');
  t.same(p.problems.map((x) => x.kind), ['score-range']);
});

t.test('a clean set passes; class counts, difficult, DontCare and unmapped types are reported', async (t) => {
  const scan: ScanResult = {
    images: [img('a'), img('b')],
    labels: [label('a', line('Car', 0, 0, 10, 10), line('Pedestrian', 5, 5, 20, 20, 1), line('Pedestrian', 30, 5, 50, 40)), label('b', line('Van', 1, 1, 99, 49), 'DontCare -1 -1 -10 60 10 90 40 -1 -1 -1 -1000 -1000 -1000 -10', line('Tram', 1, 1, 9, 9))],
    duplicates: [],
    unsupported: [],
  };
  const { report, entries } = checkDataset(scan, { mapping });
  t.equal(report.ok, true, JSON.stringify(report.problems));
  t.same(report.classes, [
    { name: 'car', objects: 2, difficult: 0, images: 2 },
    { name: 'pedestrian', objects: 2, difficult: 1, images: 1 },
  ]);
  t.equal(report.dontCare, 1);
  t.same(report.unmapped, [{ type: 'tram', objects: 1 }]);
  t.same(report.problems.map((p) => p.kind), ['unmapped-class'], 'an unmapped type is a warning, not an error');
  t.equal(entries.length, 2);
  t.same(report.resolution, { width: 100, height: 50 });
});

t.test('every problem that would mislead an evaluation is an error with file:line', async (t) => {
  const scan: ScanResult = {
    images: [img('a'), img('b', 200, 100), img('c', 100, 50, 'VipsJpeg: Premature end of JPEG file'), img('d')],
    labels: [label('a', line('Car', -1, 0, 10, 10), 'Car 0 0 0'), label('b', line('Car', 0, 0, 10, 10)), label('c', line('Car', 0, 0, 10, 10)), label('e', line('Car', 0, 0, 10, 10))],
    duplicates: [{ id: 'f', files: ['image/f.jpg', 'image/f.png'] }],
    unsupported: ['image/g.bmp'],
  };
  const { report } = checkDataset(scan, { mapping, trainingSize: { width: 1248, height: 384 } });
  t.equal(report.ok, false);
  const got = report.problems.map((p) => `${p.severity} ${p.kind} ${p.file}${p.line ? `:${p.line}` : ''}`);
  t.same(got.sort(), [
    'error box-outside label/a.txt:1',
    'error corrupt-image image/c.png',
    'error duplicate-id image/f.jpg',
    'error empty-class .',
    'error fields label/a.txt:2',
    'error missing-image label/e.txt',
    'error missing-label image/d.png',
    'error resolution image/b.png',
    'error unsupported-image image/g.bmp',
    'warning training-size .',
  ]);
  t.match(report.problems.find((p) => p.kind === 'empty-class')!.message, /class pedestrian has no objects/);
  t.equal(report.summary.errors, 9);
  t.equal(report.summary.byKind.resolution, 1);
});

t.test('a class with only difficult objects is empty for TAO', async (t) => {
  const { report } = checkDataset({ images: [img('a')], labels: [label('a', line('Car', 0, 0, 10, 10), line('Pedestrian', 0, 0, 10, 10, 2))], duplicates: [], unsupported: [] }, { mapping });
  t.match(report.problems.map((p) => p.message).join('\n'), /pedestrian has only difficult objects/);
});

t.test('resize: letterbox as TAO places it, boxes move with the image, other fields stay', async (t) => {
  // 200×100 into 100×100: ratio .5 → 100×50, centred at top 25.
  const p = planResize(200, 100, 100, 100, 'letterbox');
  t.same([p.width, p.height, p.left, p.top], [100, 50, 0, 25]);
  const text = 'Car 0.50 1 -1.2 20.00 10.00 60.00 50.00 1.5 1.6 3.8 0 0 0 0.1\n\nbroken line\n';
  t.equal(scaleLabelText(text, p), 'Car 0.50 1 -1.2 10.00 30.00 30.00 50.00 1.5 1.6 3.8 0 0 0 0.1\n\nbroken line\n');
  const s = planResize(200, 100, 100, 100, 'stretch');
  t.equal(scaleLabelText('Car 0 0 0 20 10 60 50 0 0 0 0 0 0 0', s), 'Car 0 0 0 10.00 10.00 30.00 50.00 0 0 0 0 0 0 0');
});
