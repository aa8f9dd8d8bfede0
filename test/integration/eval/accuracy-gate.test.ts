import t, { type Test } from 'tap';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { makeStack, ModelShelf } from '../../helpers/inference.js';
import { colourBoxOnnx, colourBoxServable } from '../../helpers/colour-box-model.js';
import { COLOUR_SET } from '../../helpers/colour-set.js';
import { evalSpecText, writeKittiSet } from '../../helpers/kitti-set.js';
import { runAccuracyGate } from '../../../agent/src/compose/accuracy-gate.js';
import type { AccuracyPolicy } from '../../../agent/src/eval/gate.js';

// The device side of an accuracy-gated rollout: the stored package carries a validation set
// and the reference mAP; the board evaluates the engine it serves. A "converted" engine that
// lost accuracy (the same model with its detection threshold raised, so dim objects vanish —
// what a collapsed INT8 conversion looks like) fails the gate; the good one passes.
const W = 160;
const H = 96;
const REFERENCE = (7 / 11 + 1 + 0) / 3; // the good model's SAMPLE mAP on COLOUR_SET (evaluate.test.ts)

async function storedPackage(stateDir: string, version: string, bytes: Uint8Array): Promise<void> {
  const { servable } = colourBoxServable('colour-box', version, W, H, bytes);
  const dir = path.join(stateDir, 'packages', servable.packageSha256);
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'model.onnx'), bytes);
  await writeFile(path.join(dir, 'spec.txt'), evalSpecText({ width: W, height: H }));
  await writeKittiSet(path.join(dir, 'validation'), W, H, COLOUR_SET);
  await writeFile(path.join(dir, 'model.json'), JSON.stringify({ ...servable.model, spec: 'spec.txt', validation: { dir: 'validation', referenceMap: REFERENCE } }));
  // The record intake leaves beside an unpacked package (models/store.ts).
  await writeFile(path.join(dir, '.intake.json'), JSON.stringify({ sha256: servable.packageSha256, sizeBytes: bytes.length, addedAt: new Date().toISOString(), source: 'test' }));
}

async function gate(t: Test, version: string, bytes: Uint8Array, policy: AccuracyPolicy) {
  const stateDir = t.testdir();
  await storedPackage(stateDir, version, bytes);
  const shelf = new ModelShelf();
  const g = colourBoxServable('colour-box', version, W, H, bytes);
  shelf.bytes.set(g.servable.kind === 'onnxruntime' ? g.servable.onnxPath : '', g.bytes);
  const stack = makeStack({ shelf });
  t.teardown(() => stack.close());
  await stack.service.activate(g.servable);
  return runAccuracyGate({ service: stack.service, stateDir, model: { name: 'colour-box', version }, policy, signal: AbortSignal.timeout(60_000) });
}

t.test('an engine within tolerance passes the gate (maxDrop against the reference, minMap)', async (t) => {
  const good = colourBoxOnnx(W, H);
  const v = await gate(t, '1', good, { maxDrop: 0.02 });
  t.equal(v.passed, true);
  t.ok(Math.abs(v.measuredMap - REFERENCE) < 1e-9, `measured ${v.measuredMap}`);
  t.equal(v.referenceMap, REFERENCE);
  const floor = await gate(t, '1', good, { minMap: 0.5 });
  t.equal(floor.passed, true);
});

t.test('a degraded engine is refused with ACCURACY_REGRESSION, both numbers and the worst classes', async (t) => {
  // Threshold 200: the cyclist (178), the pedestrian (153) and the stray red box (140) vanish.
  // car keeps 7/11; cyclist 0; pedestrian 0 → mAP 7/33.
  const degraded = colourBoxOnnx(W, H, 0.3, 200);
  const err = await gate(t, '2', degraded, { maxDrop: 0.02 }).then(
    () => null,
    (e: unknown) => e as { code: string; message: string; details: { measuredMap: number; referenceMap: number; requiredMap: number; worstClasses: { name: string; ap: number }[] } },
  );
  t.ok(err, 'the gate threw');
  t.equal(err!.code, 'ACCURACY_REGRESSION');
  t.ok(Math.abs(err!.details.measuredMap - 7 / 33) < 1e-9, `measured ${err!.details.measuredMap}`);
  t.equal(err!.details.referenceMap, REFERENCE);
  t.ok(Math.abs(err!.details.requiredMap - (REFERENCE - 0.02)) < 1e-12);
  t.same(err!.details.worstClasses.map((c) => [c.name, c.ap]), [['cyclist', 0], ['pedestrian', 0], ['car', err!.details.worstClasses[2]!.ap]]);
  t.match(err!.message, /measured mAP 0\.2121 on 5 validation images, below the gate 0\.5255 \(reference 0\.5455\); worst classes: cyclist 0\.0000, pedestrian 0\.0000/);
});

t.test('maxDrop without a reference mAP, and a package without a validation set, are refused', async (t) => {
  const stateDir = t.testdir();
  const bytes = colourBoxOnnx(W, H);
  const { servable } = colourBoxServable('colour-box', '3', W, H, bytes);
  const dir = path.join(stateDir, 'packages', servable.packageSha256);
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'model.onnx'), bytes);
  await writeFile(path.join(dir, 'model.json'), JSON.stringify(servable.model));
  await writeFile(path.join(dir, '.intake.json'), JSON.stringify({ sha256: servable.packageSha256, sizeBytes: 1, addedAt: new Date().toISOString(), source: 'test' }));
  const stack = makeStack();
  t.teardown(() => stack.close());
  await t.rejects(runAccuracyGate({ service: stack.service, stateDir, model: { name: 'colour-box', version: '3' }, policy: { minMap: 0.5 }, signal: new AbortController().signal }), {
    code: 'MODEL_MANIFEST_INVALID',
    message: /no validation set/,
  });
});
