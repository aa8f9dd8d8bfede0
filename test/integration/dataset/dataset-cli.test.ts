import t from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { FLEET_JS, runCli } from '../../helpers/cli.js';
import { evalSpecText, kittiLine, writeKittiSet } from '../../helpers/kitti-set.js';

const fleet = (args: string[]) => runCli(args, { script: FLEET_JS });

async function goodSet(dir: string): Promise<void> {
  await writeKittiSet(dir, 200, 100, [
    { id: '000000', rects: [{ rgb: [0, 0, 230], x1: 20, y1: 20, x2: 60, y2: 50 }], labels: [kittiLine('Car', [20, 20, 60, 50]), kittiLine('Pedestrian', [100, 10, 120, 80], { occluded: 1 }), kittiLine('Pedestrian', [130, 10, 150, 80])] },
    { id: '000001', rects: [{ rgb: [200, 0, 0], x1: 30, y1: 10, x2: 70, y2: 40 }], labels: [kittiLine('Van', [30, 10, 70, 40]), 'DontCare -1 -1 -10 150.00 10.00 190.00 40.00 -1 -1 -1 -1000 -1000 -1000 -10'] },
  ]);
  await writeFile(path.join(dir, 'spec.txt'), evalSpecText({ width: 200, height: 100 }));
}

t.test('dataset check: a clean set exits 0 and summarises classes', async (t) => {
  const dir = t.testdir();
  await goodSet(dir);
  const r = await fleet(['dataset', 'check', dir, '--spec', path.join(dir, 'spec.txt'), '--json']);
  const rep = JSON.parse(r.stdout) as { ok: boolean; classes: { name: string; objects: number; difficult: number }[]; dontCare: number; problems: { kind: string }[] };
  // cyclist is in the mapping and has no object: that alone fails the check.
  t.equal(r.code, 1);
  t.same(rep.problems.map((p) => p.kind), ['empty-class']);
  t.same(rep.classes.map((c) => [c.name, c.objects, c.difficult]), [['car', 2, 0], ['cyclist', 0, 0], ['pedestrian', 2, 1]]);
  t.equal(rep.dontCare, 1);
  const noSpec = await fleet(['dataset', 'check', dir]);
  t.equal(noSpec.code, 0, noSpec.stdout + noSpec.stderr);
  t.match(noSpec.stdout, /result:\s+ok/);
});

t.test('dataset check: every problem with file:line, a count summary, exit 1', async (t) => {
  const dir = t.testdir();
  await goodSet(dir);
  await writeFile(path.join(dir, 'label', '000000.txt'), [kittiLine('Car', [20, 20, 60, 50]), 'Car 0.00 0 0 10 10', kittiLine('Car', [60, 20, 20, 50]), kittiLine('Car', [150, 20, 260, 50])].join('\n'));
  await writeFile(path.join(dir, 'label', '000009.txt'), kittiLine('Car', [1, 1, 5, 5]));
  const jpeg = await sharp({ create: { width: 200, height: 100, channels: 3, background: { r: 9, g: 9, b: 9 } } }).jpeg().toBuffer();
  await writeFile(path.join(dir, 'image', '000002.jpg'), jpeg.subarray(0, jpeg.length >> 1));
  await writeFile(path.join(dir, 'label', '000002.txt'), kittiLine('Car', [1, 1, 5, 5]));
  await writeFile(path.join(dir, 'image', '000003.png'), await sharp({ create: { width: 100, height: 100, channels: 3, background: { r: 0, g: 0, b: 0 } } }).png().toBuffer());
  const r = await fleet(['dataset', 'check', dir]);
  t.equal(r.code, 1);
  t.match(r.stdout, /label\/000000\.txt:2: error fields: 6 fields, expected 15/);
  t.match(r.stdout, /label\/000000\.txt:3: error box-order/);
  t.match(r.stdout, /label\/000000\.txt:4: error box-outside: .*200x100/);
  t.match(r.stdout, /label\/000009\.txt: error missing-image/);
  t.match(r.stdout, /image\/000002\.jpg: error corrupt-image/);
  t.match(r.stdout, /image\/000003\.png: error resolution: 100x100, the set is 200x100/);
  t.match(r.stdout, /image\/000003\.png: error missing-label/);
  t.match(r.stdout, /summary:\s+7 errors/);
  t.match(r.stderr, /DATASET_INVALID/);
  const missing = await fleet(['dataset', 'check', path.join(dir, 'nope')]);
  t.equal(missing.code, 1);
  t.match(missing.stderr, /DATASET_NOT_FOUND: .* is not a directory/);
});

t.test('dataset resize: letterbox to the training size, boxes scaled, written whole, originals untouched', async (t) => {
  const dir = t.testdir();
  await goodSet(dir);
  const before = await readFile(path.join(dir, 'label', '000000.txt'), 'utf8');
  const out = path.join(dir, '..', `${path.basename(dir)}-100`);
  t.teardown(() => import('node:fs/promises').then((f) => f.rm(out, { recursive: true, force: true })));
  const r = await fleet(['dataset', 'resize', dir, '--to', '100x100', '--out', out, '--json']);
  t.equal(r.code, 0, r.stderr);
  const res = JSON.parse(r.stdout) as { bytes: number };
  t.same(res, { out, images: 2, labels: 2, resized: 2, bytes: res.bytes, width: 100, height: 100, mode: 'letterbox' });
  t.ok(res.bytes > 0);
  const meta = await sharp(path.join(out, 'image', '000000.png')).metadata();
  t.same([meta.width, meta.height], [100, 100]);
  // 200×100 → 100×50 at top 25: (20, 20, 60, 50) → (10, 35, 30, 50).
  t.match(await readFile(path.join(out, 'label', '000000.txt'), 'utf8'), /^Car 0\.00 0 0\.00 10\.00 35\.00 30\.00 50\.00 /);
  // The drawn box lands where the label says: the pixel at (20, 40) is the blue car.
  const { data, info } = await sharp(path.join(out, 'image', '000000.png')).raw().toBuffer({ resolveWithObject: true });
  t.ok(data[(40 * info.width + 20) * info.channels + 2]! > 200, 'blue inside the scaled box');
  t.equal(await readFile(path.join(dir, 'label', '000000.txt'), 'utf8'), before, 'the source label is unchanged');
  t.same((await readdir(path.dirname(out))).filter((n) => n.startsWith(`.${path.basename(out)}.tmp-`)), [], 'no temporary directory left');
  const check = await fleet(['dataset', 'check', out]);
  t.equal(check.code, 0, check.stdout);
  const again = await fleet(['dataset', 'resize', dir, '--to', '100x100', '--out', out]);
  t.equal(again.code, 2, 'an existing output is never overwritten');
});

t.test('dataset resize: refused up front when the output would not fit on the disk', { skip: process.getuid?.() !== 0 ? 'needs root to mount a 1 MB tmpfs as the small disk' : false }, async (t) => {
  const dir = t.testdir();
  await goodSet(dir);
  const disk = await mkdtemp(path.join(tmpdir(), 'jetson-eval-disk-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', disk]);
  t.teardown(async () => {
    execFileSync('umount', [disk]);
    await rmdir(disk);
  });
  // Two 2000×1000 PNGs: at least 0.5 B/px each → ~2 MB for a 1 MB file system.
  const out = path.join(disk, 'out');
  const r = await fleet(['dataset', 'resize', dir, '--to', '2000x1000', '--out', out]);
  t.equal(r.code, 1);
  t.match(r.stderr, /DATASET_TOO_LARGE: The resized set needs about \d+ MB; .* has 1 MB free\. Free space there/);
  t.same(await readdir(disk), [], 'nothing written, no temporary directory');
});
