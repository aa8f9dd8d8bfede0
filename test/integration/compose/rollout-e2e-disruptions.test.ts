import t from 'tap';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { generateYoloV3Onnx } from '../../../agent/src/models/onnx/generate.js';
import type { StatusPayload } from '../../../agent/src/core/contracts/topics.js';
import type { RolloutMemory } from '../../../agent/src/rollout/machine.js';
import { failsAboveInput } from '../../helpers/onnx-faults.js';
import { DEMO, RolloutRig, ref } from '../../helpers/rollout-rig.js';

/**
 * The world breaks mid-rollout, end to end on the real path (test/helpers/rollout-rig.ts): the
 * broker restarts while the device is downloading and finishing the deployment; the agent
 * process is SIGKILLed mid-download, during probation, and after a deployment, and started
 * again each time. HTTP requests are counted only while an
 * agent process is up and ready: while it is killed they fail by nature (RolloutRig.failures).
 */
const onnx = (seed: number): Uint8Array => generateYoloV3Onnx({ height: 96, width: 160, classes: 2, seed, scoreThreshold: 0.001 });

/** The device's persisted rollout state (what it resumes from). */
const persisted = (rig: RolloutRig): RolloutMemory => JSON.parse(readFileSync(path.join(rig.state, 'deployments', 'state.json'), 'utf8')) as RolloutMemory;

async function until(rig: RolloutRig, what: string, ok: () => boolean | Promise<boolean>): Promise<void> {
  await rig.within(
    (async () => {
      while (!(await ok())) await new Promise((r) => setTimeout(r, 100));
    })(),
    what,
  );
}

t.test('broker restart and agent SIGKILL mid-rollout', async (t) => {
  const rig = await RolloutRig.start(t);
  const v2 = await rig.makePackage('2.0.0', onnx(3));
  const v3 = await rig.makePackage('3.0.0', onnx(5));
  await rig.startAgent();
  await rig.startClient();

  await t.test('the broker goes down mid-download and the deployment finishes while it is down → the active report arrives after it is back', async (t) => {
    const m = rig.offer(v2, '2.0.0');
    const hold = rig.pkgs.holdOnce(new URL(m.package.url).pathname, v2.length >> 1);
    await rig.publish(m);
    await rig.within(hold.reached, 'the first half of the download');
    await rig.report((r) => r.deploymentId === m.deploymentId && r.state === 'downloading', 'downloading report');
    await rig.broker.stop();
    hold.release();
    // The device carries on without the broker; its persisted state says when it is done.
    await until(rig, 'the deployment to end while the broker is down', () => persisted(rig).lastTerminal?.deploymentId === m.deploymentId);
    t.equal(persisted(rig).lastTerminal?.state, 'active');
    t.notOk(rig.reports(m.deploymentId).some((r) => r.state === 'active'), 'no active report could be delivered yet');
    const online = rig.watch.next((x) => x.topic.endsWith('/status') && x.json<StatusPayload>().state === 'online');
    await rig.broker.start();
    await rig.within(online, 'the device back online');
    await rig.expectOutcome(t, m.deploymentId, { state: 'active', serving: ref(m) });
  });

  await t.test('the agent is SIGKILLed mid-download and started again → resumes with Range, no second full download → active', async (t) => {
    const m = rig.offer(v3, '3.0.0');
    const p = new URL(m.package.url).pathname;
    const hold = rig.pkgs.holdOnce(p, v3.length >> 1);
    await rig.publish(m);
    await rig.within(hold.reached, 'the first half of the download');
    await rig.report((r) => r.deploymentId === m.deploymentId && r.state === 'downloading' && (r.progress ?? 0) >= 0.4, 'download progress report');
    await rig.killAgent();
    hold.release();
    t.equal(persisted(rig).current?.state, 'downloading', 'persisted mid-download at the moment of the kill');
    await rig.startAgent();
    const r = await rig.expectOutcome(t, m.deploymentId, { state: 'active', serving: ref(m) });
    t.same(r.previous, { name: 'small', version: '2.0.0' }, 'previous is what served when the deployment was accepted');
    const gets = rig.pkgs.requests.filter((x) => x.path === p);
    t.equal(gets.length, 2, 'two GETs: the interrupted one and the resumed one');
    t.equal(gets[0]?.range, undefined);
    t.match(gets[1], { status: 206, range: /^bytes=[1-9]\d*-$/ }, 'the resumed GET asked only for the missing part');
  });

  // A model that fails real traffic (test/helpers/onnx-faults.ts), killed with the agent while
  // in probation: after the restart the agent starts with the model that served before it,
  // the deployment resumes (switch + probation again), fails and rolls back to that model.
  let trapWindow: [number, number] = [0, 0];
  await t.test('the agent is SIGKILLed during probation of a bad model and started again → probation resumes → rolled_back to the model before it', async (t) => {
    const m = rig.offer(await rig.makePackage('4.0.0', failsAboveInput(onnx(5), 64)), '4.0.0', { policy: { probationSec: 30 } });
    // No traffic until the kill, so the probation cannot fail before it (no race with the 1 s poll).
    await rig.stopClient();
    const from = rig.answers.length;
    await rig.publish(m);
    await rig.report((r) => r.deploymentId === m.deploymentId && r.state === 'probation', 'probation report');
    await rig.killAgent();
    t.equal(persisted(rig).current?.state, 'probation', 'persisted in probation at the moment of the kill');
    await rig.startAgent();
    await rig.startClient();
    const r = await rig.expectOutcome(t, m.deploymentId, { state: 'rolled_back', code: 'DEPLOYMENT_PROBATION_FAILED', serving: 'small@3.0.0' });
    t.match(r.error?.message, /Rolled back to small 3\.0\.0/, 'the rollback after the restart had the old model to return to');
    trapWindow = [from, rig.answers.length + 1];
    t.ok(rig.answers.slice(from).some((a) => a.counted && a.status === 500), 'the bad model failed real requests (what rolled it back)');
  });

  await t.test('the agent is SIGKILLed after the deployment and started again → the deployed model serves, not the start model', async (t) => {
    await rig.killAgent();
    await rig.startAgent();
    t.equal(await rig.serving(), 'small@3.0.0', `the model of the last deployment serves (before the fix the start model ${DEMO.name}@${DEMO.version} did)`);
  });

  await rig.stopClient();
  t.ok(rig.answers.filter((a) => a.counted).length > 5, `${rig.answers.filter((a) => a.counted).length} requests counted while an agent was up (${rig.answers.length} in all)`);
  t.same(rig.failures(trapWindow), [], 'zero failed requests while an agent process was up and ready (apart from the bad model during its probation)');
});
