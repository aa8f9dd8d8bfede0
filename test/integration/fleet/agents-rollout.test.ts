import t from 'tap';
import { PREFIX } from '../../helpers/mosquitto.js';
import { RealFleet } from '../../helpers/real-fleet.js';

/**
 * The controller (`jetson-fleet rollout start`, a real subprocess) against four REAL agents
 * (separate `jetson-agent run` processes, ONNX Runtime path, packages made by `package create`
 * from generated models, served over HTTP) on a real mosquitto. In order, on the same fleet:
 * a manifest signed with an unknown key, a two-wave rollout that succeeds, and a broken
 * package that trips the failure threshold and is rolled back.
 */
const IDS = ['jet-a', 'jet-b', 'jet-c', 'jet-d'];
const FAST = ['--health-gate', '1s', '--wave-timeout', '3m'];

interface StartResult {
  readonly deploymentId: string;
  readonly phase: string;
  readonly counts: { succeeded: number; failed: number; pending: number };
  readonly abort: { kind: string; message: string } | null;
  readonly rolledBack: string[];
  readonly errors: { code: string; devices: number; example: { id: string; message: string } }[];
  readonly error?: { code: string; message: string };
}

t.test('rollouts over four real agents', async (t) => {
  const fleet = await RealFleet.create(t, IDS.map((id) => ({ id, groups: ['lab'] })));
  await fleet.start();
  const { rig } = fleet;
  const target = ['--target', 'group:lab'];
  const servingAll = async (): Promise<string[]> => Promise.all(IDS.map((id) => fleet.device(id).serving()));
  const demo = await servingAll();
  t.same(demo, IDS.map(() => 'demo-yolov3@generated-1'), 'every agent starts on its demo model');

  await t.test('a manifest signed with an unknown key is rejected by every device; nothing changes', async (t) => {
    const stranger = await rig.makeKeys('stranger');
    const m = await fleet.manifest({ version: '1.0.0', seed: 2, key: stranger.key, deploymentId: 'small-stranger' });
    // The controller checks the manifest with the key it is given, so it publishes; the devices are the last line.
    const r = await rig.fleet(['rollout', 'start', '--manifest', m.file, '--key', stranger.key, ...target, '--waves', '100%', '--max-failures', '100%', ...FAST, '--json'], 180_000);
    t.equal(r.code, 1, r.stderr);
    const out = JSON.parse(r.stdout) as StartResult;
    t.match(out, { phase: 'aborted', error: { code: 'FLEET_ROLLOUT_ABORTED', message: /no device of wave 1 succeeded \(4 failed\)/ } });
    // The example is whichever device's refusal came first.
    t.equal(out.errors?.length, 1, 'one error group');
    t.match(out.errors, [{ code: 'MANIFEST_UNKNOWN_KEY', devices: 4, example: { id: new RegExp(`^(${IDS.join('|')})$`), message: /unknown|key/i } }], 'one result document: the rollout plus its error, with the worst errors by code');
    for (const id of IDS) {
      const rep = await fleet.reportWhere(id, (x) => x.state === 'rejected', 'a rejected report');
      t.match(rep, { state: 'rejected', error: { code: 'MANIFEST_UNKNOWN_KEY' }, model: null }, `${id} rejected it without reading it`);
    }
    t.same(await servingAll(), demo, 'every device still serves its model');
  });

  let v2 = '';
  await t.test('a two-wave rollout succeeds on every device', async (t) => {
    const m = await fleet.manifest({ version: '2.0.0', seed: 3, deploymentId: 'small-2' });
    v2 = m.deploymentId;
    const r = await rig.fleet(['rollout', 'start', '--manifest', m.file, '--key', fleet.keys.key, ...target, '--waves', '1,100%', '--max-failures', '0', ...FAST, '--json'], 180_000);
    t.equal(r.code, 0, `${r.stdout}\n${r.stderr}\n${fleet.diagnostics()}`);
    const out = JSON.parse(r.stdout) as StartResult;
    t.match(out, { deploymentId: m.deploymentId, phase: 'done', counts: { succeeded: 4, failed: 0, pending: 0 }, abort: null });
    for (const id of IDS) t.match(await fleet.terminal(id, m.deploymentId), { deploymentId: m.deploymentId, state: 'active', model: { name: 'small', version: '2.0.0' } });
    t.same(await servingAll(), IDS.map(() => 'small@2.0.0'), 'every agent serves the new model');

    const st = await rig.fleet(['rollout', 'status', m.deploymentId, '--json']);
    t.equal(st.code, 0, st.stderr);
    const rec = JSON.parse(st.stdout) as { progress: { phase: string }; plan: { waves: string[][] } };
    t.equal(rec.progress.phase, 'done');
    t.equal(rec.plan.waves.length, 2);
    t.equal(rec.plan.waves[0]?.length, 1, 'a single canary first');
  });

  await t.test('a broken package trips the failure threshold; the wave is rolled back, the rest never see it', async (t) => {
    const m = await fleet.manifest({ version: '3.0.0', seed: 4, broken: true, deploymentId: 'small-3-broken' });
    const r = await rig.fleet(['rollout', 'start', '--manifest', m.file, '--key', fleet.keys.key, ...target, '--waves', '2,100%', '--max-failures', '0', ...FAST, '--json'], 180_000);
    t.equal(r.code, 1, `${r.stdout}\n${r.stderr}`);
    const out = JSON.parse(r.stdout) as StartResult;
    t.match(out, { phase: 'aborted', error: { code: 'FLEET_ROLLOUT_ABORTED', message: /failure threshold tripped in wave 1.*worst errors: ENGINE_FAILED ×[12]/ } });
    t.match(out.errors, [{ code: 'ENGINE_FAILED', devices: Number }], 'the abort summary names the code and how many devices failed with it');
    const s = await rig.session(m.deploymentId);
    t.teardown(() => s.close());
    const rec = s.rollouts.get(m.deploymentId);
    t.equal(rec?.progress.phase, 'aborted');
    const [wave1 = [], wave2 = []] = rec?.plan.waves ?? [];
    t.equal(wave1.length, 2);
    t.same([...(rec?.rolledBack ?? [])].sort(), [...wave1].sort(), 'the notified wave was rolled back');
    const v2Envelope = s.view.desired.get(wave2[0] ?? '');
    for (const id of wave1) {
      const rep = await fleet.terminal(id, m.deploymentId);
      t.not(rep.state, 'active', `${id}: ${rep.state} ${rep.error?.code ?? ''}`);
      t.equal(s.view.desired.get(id), v2Envelope, `${id}: its previous desired (${v2}) is retained again`);
    }
    for (const id of wave2) {
      t.notOk(fleet.watch.seen.some((x) => x.topic === `${PREFIX}/devices/${id}/deployment` && x.body.includes(m.deploymentId)), `${id} never worked the broken package`);
    }
    // Each rolled-back device answers the signed rollback request; what it serves is checked after that.
    for (const id of wave1) {
      const res = await fleet.within(
        fleet.watch.waitFor((x) => x.topic === `${PREFIX}/devices/${id}/response/rollback` && x.body.includes(`rollback-${m.deploymentId}-`)),
        `rollback response of ${id}`,
      );
      t.match(res.json(), { status: 'ok' }, `${id} answered the rollback: ${res.body}`);
    }
    t.same(await servingAll(), IDS.map(() => 'small@2.0.0'), 'every agent still serves the last good model');
  });

  await Promise.all(IDS.map(async (id) => t.equal(await fleet.device(id).stop(), 0, `${id} stops cleanly`)));
});
