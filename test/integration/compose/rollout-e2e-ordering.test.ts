import t from 'tap';
import { generateYoloV3Onnx } from '../../../agent/src/models/onnx/generate.js';
import type { EventPayload } from '../../../agent/src/core/contracts/topics.js';
import { RolloutRig, ref } from '../../helpers/rollout-rig.js';

/**
 * Desired messages in awkward order, end to end on the real path (test/helpers/rollout-rig.ts):
 * the same desired delivered twice, an older manifest after a newer one, and a newer desired
 * while a deployment is downloading and while one is in probation (→ superseded).
 */
const onnx = (seed: number): Uint8Array => generateYoloV3Onnx({ height: 96, width: 160, classes: 2, seed, scoreThreshold: 0.001 });

t.test('duplicate, out-of-order and superseding desired messages', async (t) => {
  const rig = await RolloutRig.start(t);
  const pkg = new Map<string, Buffer>();
  for (const [v, seed] of [['2.0.0', 3], ['3.0.0', 5], ['4.0.0', 7], ['5.0.0', 9], ['6.0.0', 11]] as const) pkg.set(v, await rig.makePackage(v, onnx(seed)));
  const get = (v: string): Buffer => pkg.get(v) ?? Buffer.alloc(0);
  await rig.startAgent();
  await rig.startClient();
  const downloads = (url: string): number => rig.pkgs.requests.filter((x) => x.path === new URL(url).pathname).length;

  await t.test('the same desired twice, then an older manifest after a newer one: worked once; the stale one changes nothing', async (t) => {
    // Made first, so its sequence is lower: a replay of an old, validly signed manifest.
    const older = rig.offer(get('3.0.0'), '3.0.0');
    const m = rig.offer(get('2.0.0'), '2.0.0');
    const envelope = rig.sign(m);
    await rig.publish(envelope);
    await rig.expectOutcome(t, m.deploymentId, { state: 'active', serving: ref(m) });
    const reportsBefore = rig.reports(m.deploymentId).length;

    await rig.publish(envelope); // exactly the same bytes again (e.g. a redelivered retained message)
    const replayed = rig.watch.next((x) => x.topic.endsWith('/events') && x.json<EventPayload>().type === 'desired.replayed');
    await rig.publish(older);
    // Desired messages are handled one at a time, in order: the replay event means the duplicate was handled too.
    const ev = (await rig.within(replayed, 'desired.replayed event')).json<EventPayload>();
    t.match(ev.data, { deploymentId: older.deploymentId, sequence: older.sequence });
    t.equal(rig.reports(m.deploymentId).length, reportsBefore, 'the duplicate produced no report');
    t.same(rig.reports(older.deploymentId), [], 'the stale manifest produced no report');
    t.equal(downloads(m.package.url), 1, 'downloaded once');
    t.equal(downloads(older.package.url), 0, 'the stale package was never fetched');
    t.match(await rig.retained(), { deploymentId: m.deploymentId, state: 'active' }, 'the retained report is still the real deployment');
    t.equal(await rig.serving(), ref(m));
  });

  await t.test('a newer desired while downloading → superseded; the newer one goes active', async (t) => {
    const a = rig.offer(get('3.0.0'), '3.0.0');
    const hold = rig.pkgs.holdOnce(new URL(a.package.url).pathname, get('3.0.0').length >> 1);
    await rig.publish(a);
    await rig.within(hold.reached, 'the first half of the download');
    const b = rig.offer(get('4.0.0'), '4.0.0');
    await rig.publish(b);
    const ra = await rig.terminal(a.deploymentId);
    t.match(ra, { state: 'superseded', stage: 'downloading', error: { code: 'DEPLOYMENT_SUPERSEDED' } });
    hold.release();
    const rb = await rig.expectOutcome(t, b.deploymentId, { state: 'active', serving: ref(b) });
    t.same(rb.previous, { name: 'small', version: '2.0.0' });
  });

  await t.test('a newer desired while the previous one is in probation → superseded, its model replaced; the newer one goes active', async (t) => {
    const c = rig.offer(get('5.0.0'), '5.0.0', { policy: { probationSec: 60 } });
    await rig.publish(c);
    await rig.report((r) => r.deploymentId === c.deploymentId && r.state === 'probation', 'probation report');
    t.equal(await rig.serving(), ref(c), 'in probation the new model serves');
    const d = rig.offer(get('6.0.0'), '6.0.0');
    await rig.publish(d);
    const rc = await rig.terminal(c.deploymentId);
    t.match(rc, { state: 'superseded', stage: 'probation', error: { code: 'DEPLOYMENT_SUPERSEDED' } });
    const rd = await rig.expectOutcome(t, d.deploymentId, { state: 'active', serving: ref(d) });
    t.same(rd.previous, { name: 'small', version: '4.0.0' }, 'the superseded model was rolled back before the newer one started');
  });

  await rig.stopClient();
  t.ok(rig.answers.some((a) => a.model === 'small@5.0.0'), 'the superseded model answered during its probation');
  t.same(rig.failures(), [], 'zero failed requests during the whole run');
});
