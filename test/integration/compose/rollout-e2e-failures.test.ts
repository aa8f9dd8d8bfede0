import t from 'tap';
import sharp from 'sharp';
import { generateYoloV3Onnx } from '../../../agent/src/models/onnx/generate.js';
import { failsAboveInput, nmsOutputConsumed } from '../../helpers/onnx-faults.js';
import { RolloutRig, ref, type GoldenCase } from '../../helpers/rollout-rig.js';

/**
 * The models that fail on the device, end to end on the real ONNX Runtime path
 * (test/helpers/rollout-rig.ts): preparation (graph surgery) refuses the model, warm-up fails,
 * the golden images disagree, and a model that passes warm-up AND its golden images but fails
 * on real traffic during probation → automatic rollback. Each model is a generated one with a
 * real defect (test/helpers/onnx-faults.ts); nothing in the agent is stubbed.
 */
const onnx = (seed: number): Uint8Array => generateYoloV3Onnx({ height: 96, width: 160, classes: 2, seed, scoreThreshold: 0.001 });

t.test('failing models: preparation, warm-up, golden mismatch, probation → rollback', async (t) => {
  const rig = await RolloutRig.start(t);
  const base = await rig.makePackage('2.0.0', onnx(3));
  await rig.startAgent();
  await rig.startClient();

  const m2 = rig.offer(base, '2.0.0');
  await rig.publish(m2);
  await rig.expectOutcome(t, m2.deploymentId, { state: 'active', serving: ref(m2) });
  let serving = ref(m2);

  // Golden images: a dark frame (every input value far below the trap's limit) with the
  // detections the serving model 2.0.0 gives for it, recorded through the public API.
  const dark = await sharp({ create: { width: 160, height: 96, channels: 3, background: { r: 20, g: 20, b: 24 } } }).jpeg().toBuffer();
  const seen = await rig.detect(dark);
  t.equal(seen.status, 200);
  const golden: GoldenCase[] = [{ file: 'dark.jpg', image: dark, detections: (seen.body.detections ?? []).map((d) => ({ classId: d.classId, score: d.score, box: d.box })) }];
  t.ok(golden[0]!.detections.length > 0, `the golden image has ${golden[0]!.detections.length} expected detections`);

  await t.test('preparation refuses the graph (a node reads the NMS output, so it cannot be cut there) → failed ONNX_UNSUPPORTED at converting', async (t) => {
    const m = rig.offer(await rig.makePackage('3.0.0', nmsOutputConsumed(onnx(3))), '3.0.0');
    await rig.publish(m);
    const r = await rig.expectOutcome(t, m.deploymentId, { state: 'failed', code: 'ONNX_UNSUPPORTED', serving });
    t.equal(r.stage, 'converting');
  });

  await t.test('the model loads but its warm-up run fails → failed WARMUP_FAILED, the old model never stopped', async (t) => {
    const m = rig.offer(await rig.makePackage('3.1.0', failsAboveInput(onnx(3), -1)), '3.1.0');
    await rig.publish(m);
    const r = await rig.expectOutcome(t, m.deploymentId, { state: 'failed', code: 'WARMUP_FAILED', serving });
    t.equal(r.stage, 'warming');
  });

  await t.test('other weights than the golden images were recorded with → failed GOLDEN_MISMATCH', async (t) => {
    const m = rig.offer(await rig.makePackage('3.2.0', onnx(6), { cases: golden }), '3.2.0');
    await rig.publish(m);
    const r = await rig.expectOutcome(t, m.deploymentId, { state: 'failed', code: 'GOLDEN_MISMATCH', serving });
    t.equal(r.stage, 'warming');
  });

  await t.test('a model that passes warm-up and golden but fails on real traffic → rolled_back DEPLOYMENT_PROBATION_FAILED', async (t) => {
    // Same weights as 2.0.0, so the dark golden image passes; the client's photo-like images
    // carry pixel values above the trap's limit, so ONNX Runtime fails every real request.
    const m = rig.offer(await rig.makePackage('3.3.0', failsAboveInput(onnx(3), 64), { cases: golden }), '3.3.0', { policy: { probationSec: 3 } });
    const from = rig.answers.length;
    await rig.publish(m);
    const probation = await rig.report((r) => r.deploymentId === m.deploymentId && r.state === 'probation', 'probation report');
    t.same(probation.model, m.model, 'warm-up and the golden check passed: the model was switched in');
    const r = await rig.expectOutcome(t, m.deploymentId, { state: 'rolled_back', code: 'DEPLOYMENT_PROBATION_FAILED', serving });
    // One request may have been in flight when the report arrived.
    const to = rig.answers.length + 1;
    t.equal(r.stage, 'probation');
    t.match(r.error?.message, /error rate .* exceeded/, 'the report says why');
    t.match(r.error?.message, new RegExp(`Rolled back to ${serving.replace('@', ' ')}`), 'the report says which model serves again');
    const during = rig.answers.slice(from, to).filter((a) => a.status !== 200);
    t.ok(during.length > 0, `the bad model failed ${during.length} real requests during its probation (that is what rolled it back)`);
    t.same([...new Set(during.map((a) => a.status))], [500], 'as server errors');
    const outside = rig.answers.filter((a, i) => (i < from || i >= to) && a.counted && a.status !== 200);
    t.same(outside, [], 'no failed request before the bad model or after the rollback');
  });

  await t.test("a client's bad requests during probation are not the model's failures → a good model still goes active", async (t) => {
    const m = rig.offer(await rig.makePackage('4.0.0', onnx(7)), '4.0.0', { policy: { probationSec: 2 } });
    await rig.publish(m);
    await rig.report((r) => r.deploymentId === m.deploymentId && r.state === 'probation', 'probation report');
    // A second client sends bodies that are not images as fast as it can: 400 IMAGE_UNDECODABLE.
    const ended = rig.terminal(m.deploymentId);
    let done = false;
    void ended.then(() => (done = true));
    let rejected = 0;
    while (!done) {
      const res = await fetch(`http://127.0.0.1:${rig.port}/v1/detect`, { method: 'POST', headers: { 'content-type': 'image/jpeg' }, body: 'not an image' });
      await res.arrayBuffer();
      if (res.status === 400) rejected++;
    }
    t.ok(rejected > 20, `${rejected} bad requests answered 400 during the probation`);
    await rig.expectOutcome(t, m.deploymentId, { state: 'active', serving: ref(m) });
    serving = ref(m);
  });

  // Traffic is served by the last good model.
  const mark = rig.answers.length;
  await rig.within(
    new Promise<void>((resolve) => {
      const tick = setInterval(() => {
        if (rig.answers.length >= mark + 3) {
          clearInterval(tick);
          resolve();
        }
      }, 50);
    }),
    'three more answers',
  );
  await rig.stopClient();
  t.same(
    rig.answers.slice(mark).map((a) => `${a.status} ${a.model ?? ''}`),
    rig.answers.slice(mark).map(() => `200 ${serving}`),
    'the last answers come from the last good model',
  );
  t.ok(!rig.answers.some((a) => a.model && /@3\.[012]/.test(a.model)), 'no model that failed before activation ever answered');
});
