import t, { type Test } from 'tap';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { FLEET_JS, runCli } from '../../helpers/cli.js';
import { makeStack, ModelShelf } from '../../helpers/inference.js';
import { colourBoxServable } from '../../helpers/colour-box-model.js';
import { evalSpecText, kittiLine, writeKittiSet } from '../../helpers/kitti-set.js';
import { COLOUR_SET as IMAGES, COLOUR_SET_AP as EXPECTED } from '../../helpers/colour-set.js';
import { loadEvalSet } from '../../../agent/src/eval/load-set.js';
import { evaluateDataset } from '../../../agent/src/eval/run.js';
import { readEvalSpec } from '../../../agent/src/eval/eval-spec.js';
import { parseSpec } from '../../../agent/src/models/spec-parse.js';

// A real evaluation end to end: generated PNGs with drawn rectangles, served by a generated
// ONNX model whose detections are a known function of the image (test/helpers/colour-box-model.ts:
// blue → car, green → cyclist, red → pedestrian, score = brightness / 255), through ONNX
// Runtime, NMS and the HTTP endpoint at low priority. The expected table is worked out by hand.
const W = 160;
const H = 96;
interface Report {
  complete: boolean;
  map: number | null;
  partialMap: number | null;
  mode: string;
  model: { name: string; version: string } | null;
  classes: { name: string; ap: number; tp: number; fp: number; groundTruth: number; difficult: number; ignored: number }[];
  skipped: { file: string; code: string }[];
  dropped: { unmapped: Record<string, number>; dontCare: number };
}
const near = (a: number, b: number) => Math.abs(a - b) < 1e-9;

async function serve(t: Test) {
  const shelf = new ModelShelf();
  const g = colourBoxServable('colour-box', '1', W, H);
  shelf.bytes.set(g.servable.kind === 'onnxruntime' ? g.servable.onnxPath : '', g.bytes);
  shelf.servables.push(g.servable);
  const stack = makeStack({ shelf });
  await stack.service.activate(g.servable);
  await stack.app.listen({ port: 0, host: '127.0.0.1' });
  t.teardown(() => stack.close());
  return { stack, url: `http://127.0.0.1:${(stack.app.server.address() as AddressInfo).port}`, servable: g.servable };
}

t.test('jetson-fleet evaluate over HTTP prints the hand-computed AP table in both modes', async (t) => {
  const { url } = await serve(t);
  const dir = t.testdir();
  await writeKittiSet(dir, W, H, IMAGES);
  await writeFile(path.join(dir, 'spec.txt'), evalSpecText({ width: W, height: H, mode: 'SAMPLE' }));
  for (const mode of ['sample', 'integrate'] as const) {
    const r = await runCli(['evaluate', '--url', url, '--dataset', dir, '--spec', path.join(dir, 'spec.txt'), '--mode', mode, '--json'], { script: FLEET_JS });
    t.equal(r.code, 0, r.stderr);
    const rep = JSON.parse(r.stdout) as Report;
    t.equal(rep.complete, true);
    t.same(rep.model, { name: 'colour-box', version: '1' });
    for (const c of rep.classes) t.ok(near(c.ap, EXPECTED[mode][c.name as 'car']), `${mode} ${c.name}: AP ${c.ap} = ${EXPECTED[mode][c.name as 'car']}`);
    const e = EXPECTED[mode];
    t.ok(near(rep.map!, (e.car + e.cyclist + e.pedestrian) / 3), `${mode} mAP ${rep.map}`);
    const ped = rep.classes.find((c) => c.name === 'pedestrian')!;
    t.same([ped.groundTruth, ped.difficult, ped.ignored, ped.fp], [1, 1, 1, 1], 'the occluded pedestrian is difficult and its detection ignored');
    t.same(rep.dropped, { unmapped: { tram: 1 }, dontCare: 1, tiny: 0 });
  }
  // The human table: TAO's 5-digit AP column and the mAP line.
  const human = await runCli(['evaluate', '--url', url, '--dataset', dir, '--spec', path.join(dir, 'spec.txt')], { script: FLEET_JS });
  t.equal(human.code, 0, human.stderr);
  t.match(human.stdout, /^car\s+0\.63636\s/m);
  t.match(human.stdout, /^mAP\s+0\.54545/m);
  t.match(human.stdout, /SAMPLE, IoU ≥ 0\.5, score > 0\.3/);
});

t.test('saved predictions (--detections, 16th field = score) give the same numbers', async (t) => {
  const dir = t.testdir();
  await writeKittiSet(dir, W, H, IMAGES);
  await writeFile(path.join(dir, 'spec.txt'), evalSpecText({ width: W, height: H }));
  const preds = path.join(dir, 'preds');
  await mkdir(preds);
  // What the model answers, written as `tao inference` writes KITTI labels (target class names).
  const lines: Record<string, string[]> = {
    '000000': [kittiLine('car', [20, 20, 60, 50], { score: 230 / 255 })],
    '000001': [kittiLine('car', [30, 10, 70, 40], { score: 204 / 255 })],
    '000002': [kittiLine('cyclist', [10, 10, 50, 80], { score: 178 / 255 })],
    '000003': [kittiLine('pedestrian', [100, 20, 140, 70], { score: 153 / 255 })],
    '000004': [kittiLine('car', [80, 30, 120, 60], { score: 1 }), kittiLine('pedestrian', [10, 10, 40, 40], { score: 140 / 255 })],
  };
  for (const [id, l] of Object.entries(lines)) await writeFile(path.join(preds, `${id}.txt`), l.join('\n') + '\n');
  const r = await runCli(['evaluate', '--detections', preds, '--dataset', dir, '--spec', path.join(dir, 'spec.txt'), '--json'], { script: FLEET_JS });
  t.equal(r.code, 0, r.stderr);
  const rep = JSON.parse(r.stdout) as Report;
  t.ok(near(rep.map!, (7 / 11 + 1) / 3));
  // A malformed prediction line stops the evaluation with file:line.
  await writeFile(path.join(preds, '000002.txt'), 'cyclist 0 0 0 10 10 50 80 0 0 0 0 0 0 0\n');
  const bad = await runCli(['evaluate', '--detections', preds, '--dataset', dir, '--spec', path.join(dir, 'spec.txt')], { script: FLEET_JS });
  t.equal(bad.code, 1);
  t.match(bad.stderr, /DATASET_LABEL_MALFORMED: .*000002\.txt:1: 15 fields, expected 16/);
});

t.test('a corrupt image makes the result partial: no mAP, the image named, exit 1', async (t) => {
  const { url } = await serve(t);
  const dir = t.testdir();
  const png = Buffer.from('\x89PNG\r\n\x1a\n-truncated-', 'binary');
  await writeKittiSet(dir, W, H, [...IMAGES, { id: '000005', rects: [], labels: [kittiLine('Car', [1, 1, 20, 20])], bytes: png }]);
  await writeFile(path.join(dir, 'spec.txt'), evalSpecText({ width: W, height: H }));
  const r = await runCli(['evaluate', '--url', url, '--dataset', dir, '--spec', path.join(dir, 'spec.txt'), '--json'], { script: FLEET_JS });
  t.equal(r.code, 1);
  const rep = JSON.parse(r.stdout) as Report;
  t.equal(rep.complete, false);
  t.equal(rep.map, null, 'no number that looks complete');
  t.ok(near(rep.partialMap!, (7 / 11 + 1) / 3), 'the partial mAP covers the other five images');
  t.same(rep.skipped.map((s) => s.file), ['image/000005.png']);
  const human = await runCli(['evaluate', '--url', url, '--dataset', dir, '--spec', path.join(dir, 'spec.txt')], { script: FLEET_JS });
  t.match(human.stdout, /PARTIAL: 1 of 6 images skipped/);
  t.notMatch(human.stdout, /^mAP/m);
  t.match(human.stderr, /EVAL_INCOMPLETE/);
});

t.test('evaluateDataset in process on the low-priority lane; cancellation gives no result', async (t) => {
  const { stack } = await serve(t);
  const dir = t.testdir();
  await writeKittiSet(dir, W, H, IMAGES);
  const spec = readEvalSpec(parseSpec(evalSpecText({ width: W, height: H, mode: 'INTEGRATE' })));
  const set = await loadEvalSet(dir, { mapping: spec.mapping });
  const base = {
    root: dir,
    entries: set.entries,
    mapping: set.mapping,
    mode: spec.mode,
    iouThreshold: spec.iouThreshold,
    confidenceThreshold: spec.confidenceThreshold,
    network: { width: W, height: H, resize: 'letterbox-center' as const },
  };
  const before = stack.service.counters().requests;
  const rep = await evaluateDataset({ ...base, detect: async (_e, read) => stack.service.detect(await read(), undefined, { threshold: 0.3, maxDetections: 1000, priority: 'low' }) });
  t.ok(near(rep.map!, (2 / 3 + 1) / 3), `integrate mAP ${rep.map}`);
  t.equal(stack.service.counters().requests, before, 'evaluation traffic is not counted as live requests (probation, health)');
  const ac = new AbortController();
  let calls = 0;
  await t.rejects(
    evaluateDataset({
      ...base,
      concurrency: 1,
      signal: ac.signal,
      detect: async (_e, read, signal) => {
        if (++calls === 2) ac.abort();
        signal.throwIfAborted();
        return stack.service.detect(await read(), undefined, { threshold: 0.3, priority: 'low' });
      },
    }),
    { code: 'CANCELED' },
  );
  t.equal(calls, 2, 'no image is started after the abort');
});
