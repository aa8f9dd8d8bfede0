import t from 'tap';
import { generateKeyPairSync } from 'node:crypto';
import { generateYoloV3Onnx } from '../../../agent/src/models/onnx/generate.js';
import { unknownOperator } from '../../helpers/onnx-faults.js';
import { PREFIX } from '../../helpers/mosquitto.js';
import { Watcher } from '../../helpers/mqtt-watch.js';
import { DEMO, DEVICE, RolloutRig, ref } from '../../helpers/rollout-rig.js';

/**
 * Device-side rollout with every real piece (test/helpers/rollout-rig.ts): a real agent process
 * on a real mosquitto, signed manifests, packages made by `jetson-fleet package create` from
 * generated TAO-YOLOv3 ONNX models and served over HTTP, the model store, conversion (NMS-node
 * surgery), ONNX Runtime warm-up and hot swap, while a client keeps posting images: no request
 * may fail during the whole run. This file: bad signature, success, sha256 mismatch, truncated
 * download resumed, a model that does not load, health, clean stop. The other failure cases are
 * in rollout-e2e-failures / -disruptions / -ordering.test.ts.
 */
const onnx = (seed: number): Uint8Array => generateYoloV3Onnx({ height: 96, width: 160, classes: 2, seed, scoreThreshold: 0.001 });

t.test('signed rollouts drive a real agent: bad signature, success, sha mismatch, resumed download, broken model; zero failed requests', async (t) => {
  const rig = await RolloutRig.start(t);
  const good = await rig.makePackage('2.0.0', onnx(3));
  const resumable = await rig.makePackage('2.1.0', onnx(5));
  const broken = await rig.makePackage('3.0.0', unknownOperator(onnx(4)));
  await rig.startAgent();
  await rig.startClient();

  await t.test('a manifest signed with a key the device does not trust → rejected, nothing changes', async (t) => {
    const m = rig.offer(good, '2.0.0');
    await rig.publish(rig.sign(m, generateKeyPairSync('ed25519').privateKey));
    const r = await rig.report((x) => x.state === 'rejected', 'rejected report for the untrusted manifest');
    t.equal(r.error?.code, 'MANIFEST_BAD_SIGNATURE');
    t.same(r.model, null, 'nothing inside an unverified manifest is read');
    t.equal(await rig.serving(), `${DEMO.name}@${DEMO.version}`, 'the start model still serves');
  });

  let active = `${DEMO.name}@${DEMO.version}`;
  await t.test('a good package: downloaded, stored, converted, warmed, switched, probation → active', async (t) => {
    const m = rig.offer(good, '2.0.0');
    await rig.publish(m);
    const r = await rig.expectOutcome(t, m.deploymentId, { state: 'active', serving: ref(m) });
    t.same(r.model, m.model);
    t.same(r.previous, DEMO);
    active = ref(m);
  });

  await t.test('the server has a different file than the manifest names (same size) → failed DOWNLOAD_SHA_MISMATCH', async (t) => {
    const corrupt = Buffer.from(resumable);
    const at = corrupt.length >> 1;
    corrupt[at] = (corrupt[at] ?? 0) ^ 0xff;
    const m = rig.manifest(rig.pkgs.add('/mirror/small-2.1.0.tar', corrupt), resumable, '2.1.0');
    await rig.publish(m);
    await rig.expectOutcome(t, m.deploymentId, { state: 'failed', code: 'DOWNLOAD_SHA_MISMATCH', serving: active });
  });

  await t.test('the connection drops mid-download → resumed with Range → active', async (t) => {
    const m = rig.offer(resumable, '2.1.0');
    const p = new URL(m.package.url).pathname;
    rig.pkgs.truncateOnce(p, resumable.length >> 1);
    await rig.publish(m);
    await rig.expectOutcome(t, m.deploymentId, { state: 'active', serving: ref(m) });
    const gets = rig.pkgs.requests.filter((x) => x.path === p);
    t.match(gets, [{ range: undefined, status: 200 }, { range: `bytes=${resumable.length >> 1}-`, status: 206 }], 'the second GET asked only for the missing half');
    active = ref(m);
  });

  await t.test('a model ONNX Runtime cannot load → failed before activation, the old model keeps serving', async (t) => {
    const m = rig.offer(broken, '3.0.0');
    await rig.publish(m);
    const r = await rig.expectOutcome(t, m.deploymentId, { state: 'failed', code: 'ENGINE_FAILED', serving: active });
    t.equal(r.stage, 'warming', 'it failed while loading beside the serving model');
  });

  await t.test('health is published retained and names the serving model', async (t) => {
    const [name, version] = active.split('@');
    const health = await rig.within(
      rig.watch.next((m) => m.topic.endsWith('/health')),
      'a health snapshot',
    );
    t.match(health.json(), { agent: { model: { name, version } } });
  });

  await rig.stopClient();
  t.ok(rig.answers.length > 5, `${rig.answers.length} requests during the rollouts`);
  t.same(rig.failures(), [], 'zero failed requests during the whole run');
  t.ok(rig.answers.some((a) => a.model === 'small@2.0.0') && rig.answers.some((a) => a.model === 'small@2.1.0'), 'answers moved to each new model');

  t.equal(await rig.stopAgent(), 0, rig.agent?.log().slice(-3000) ?? '');
  // A subscriber arriving later sees the retained offline status the agent left behind.
  const late = await Watcher.connect(rig.broker.controllerUrl, [`${PREFIX}/devices/${DEVICE}/status`]);
  t.teardown(() => late.close());
  const offline = await late.waitFor((m) => m.topic.endsWith('/status'));
  t.ok(offline.retain, 'delivered as a retained message');
  t.match(offline.json(), { state: 'offline' });
});
