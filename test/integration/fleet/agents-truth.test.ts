import t from 'tap';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { FLEET_JS, runCli } from '../../helpers/cli.js';
import { RealFleet } from '../../helpers/real-fleet.js';

/**
 * What the controller tells the operator, checked against three REAL agents (`jetson-agent run`
 * processes on the ONNX Runtime path) on a real mosquitto, every command a real `jetson-fleet`
 * subprocess: `devices` (desired vs actual, drift, an offline device shown offline, filters, a
 * --json that `rollout plan --devices-file` reads), the abort summary and `rollout status` with
 * the worst errors by code, `rollout list`, and `rollout rollback` reporting per device what it
 * serves afterwards.
 */
const IDS = ['jet-a', 'jet-b', 'jet-c'];
const FAST = ['--health-gate', '1s', '--wave-timeout', '3m'];

interface Row {
  id: string;
  online: boolean;
  health: string | null;
  lastHealth: string | null;
  desired: { deploymentId: string; model: { name: string; version: string } } | null;
  actual: { name: string; version: string } | null;
  drift: string;
  driftReason: string | null;
}

t.test('the operator sees the truth, with three real agents', async (t) => {
  const fleet = await RealFleet.create(t, IDS.map((id) => ({ id, groups: ['lab'] })));
  await fleet.start();
  const { rig } = fleet;
  const key = fleet.keys.key;
  const devices = async (...args: string[]): Promise<Row[]> => {
    const r = await rig.fleet(['devices', '--json', ...args]);
    t.equal(r.code, 0, r.stderr);
    return (JSON.parse(r.stdout) as { devices: Row[] }).devices;
  };
  await fleet.within(fleet.watch.waitFor((m) => m.topic.endsWith('/jet-c/health') && m.body.includes('"name":"demo-yolov3"')), 'a health snapshot of jet-c naming its model');
  t.equal(await fleet.device('jet-c').stop(), 0, 'jet-c is stopped before the first rollout');

  const good = await fleet.manifest({ version: '2.0.0', seed: 3, deploymentId: 'small-2' });
  await t.test('a rollout with one device offline; devices shows desired vs actual and drift', async (t) => {
    const r = await rig.fleet(['rollout', 'start', '--manifest', good.file, '--key', key, '--target', 'group:lab', '--waves', '100%', '--max-failures', '0', ...FAST, '--json'], 180_000);
    t.equal(r.code, 0, r.code === 0 ? 'done' : `${r.stdout}\n${r.stderr}\n${fleet.diagnostics()}`);
    t.match(JSON.parse(r.stdout), { phase: 'done', counts: { succeeded: 2, pending: 1 } });
    // The next health snapshot names the new model.
    for (const id of ['jet-a', 'jet-b']) {
      await fleet.within(fleet.watch.waitFor((m) => m.topic.endsWith(`/${id}/health`) && m.body.includes('"version":"2.0.0"')), `health of ${id} naming 2.0.0`);
    }
    const rows = await devices();
    const by = new Map(rows.map((x) => [x.id, x]));
    for (const id of ['jet-a', 'jet-b']) {
      t.match(by.get(id), { online: true, health: 'ok', desired: { deploymentId: 'small-2', model: { version: '2.0.0' } }, actual: { version: '2.0.0' }, drift: 'in-sync' }, `${id} serves what it was asked for`);
    }
    t.match(
      by.get('jet-c'),
      { online: false, health: 'offline', lastHealth: 'ok', desired: { model: { version: '2.0.0' } }, actual: { name: 'demo-yolov3' }, drift: 'drift', driftReason: /small-2 not reported yet/ },
      'the offline device shows offline (not its last ok) and drifts from its desired',
    );
    t.same((await devices('--drift')).map((x) => x.id), ['jet-c'], '--drift');
    t.same((await devices('--state', 'offline')).map((x) => x.id), ['jet-c'], '--state offline');
    t.same((await devices('--state', 'active', '--group', 'lab')).map((x) => x.id), ['jet-a', 'jet-b'], '--state active --group lab');
    const table = await rig.fleet(['devices']);
    t.match(table.stdout, /jet-c\s+offline\s.*small 2\.0\.0\s+demo-yolov3 generated-1 \(last seen\)\s+DRIFT \(wants small 2\.0\.0: small-2 not reported yet\)\s+offline/, 'the table says the same');

    const file = path.join(fleet.dir, 'devices.json');
    const dj = await rig.fleet(['devices', '--json']);
    writeFileSync(file, dj.stdout);
    const plan = await runCli(['rollout', 'plan', '--devices-file', file, '--target', 'group:lab', '--waves', '1,100%', '--json'], { script: FLEET_JS });
    t.equal(plan.code, 0, plan.stderr);
    t.match(JSON.parse(plan.stdout), { waves: [{ devices: ['jet-a'] }, { devices: ['jet-b', 'jet-c'], pending: ['jet-c'] }], pending: ['jet-c'] }, '`devices --json` is a devices file');
  });

  const broken = await fleet.manifest({ version: '3.0.0', seed: 4, broken: true, deploymentId: 'small-3-broken' });
  await t.test('the abort summary and rollout status name the worst errors with device counts', async (t) => {
    const r = await rig.fleet(['rollout', 'start', '--manifest', broken.file, '--key', key, '--target', 'devices:jet-a', '--waves', '100%', '--max-failures', '0', ...FAST, '--json'], 180_000);
    t.equal(r.code, 1, 'aborted: exit 1');
    const out = JSON.parse(r.stdout) as { phase: string; errors: unknown[]; error: { code: string; message: string } };
    t.match(out, { phase: 'aborted', errors: [{ code: 'ENGINE_FAILED', devices: 1, example: { id: 'jet-a' } }], error: { code: 'FLEET_ROLLOUT_ABORTED', message: /worst errors: ENGINE_FAILED ×1 \(e\.g\. jet-a: / } });
    const st = await rig.fleet(['rollout', 'status', broken.deploymentId]);
    t.equal(st.code, 1, 'an aborted rollout');
    t.match(st.stdout, /worst errors \(devices per code\):\n\s+ENGINE_FAILED ×1 \(e\.g\. jet-a: /);
    const list = await rig.fleet(['rollout', 'list', '--json']);
    t.equal(list.code, 0, list.stderr);
    t.match(JSON.parse(list.stdout), { rollouts: [{ deploymentId: 'small-3-broken', phase: 'aborted', worstError: 'ENGINE_FAILED ×1' }, { deploymentId: 'small-2', phase: 'done', worstError: null }] });
    const text = await rig.fleet(['rollout', 'list', '--phase', 'done']);
    t.match(text.stdout, /^ID\s+PHASE.*\nsmall-2\s+done\s+1\/1\s+2\s+0\s+1\s+-\s+group:lab/);
  });

  await t.test('rollout rollback reports per device what it serves afterwards', async (t) => {
    t.same([await fleet.device('jet-a').serving(), await fleet.device('jet-b').serving()], ['small@2.0.0', 'small@2.0.0'], 'both serve small-2 (jet-a failed the broken one)');
    const r = await rig.fleet(['rollout', 'rollback', good.deploymentId, '--key', key, '--timeout', '2m', '--json'], 180_000);
    const out = JSON.parse(r.stdout) as { devices: { id: string; result: string; serving: { name: string; version: string } | null }[]; error?: { code: string } };
    const by = new Map(out.devices.map((d) => [d.id, d]));
    t.match(by.get('jet-b'), { result: 'rolled_back', serving: { name: 'demo-yolov3' } }, 'jet-b is back on the model before small-2');
    t.match(by.get('jet-c'), { result: 'pending' }, 'jet-c is offline: pending, not "rolled back"');
    t.equal(await fleet.device('jet-b').serving(), 'demo-yolov3@generated-1', '/v1/models agrees for jet-b');
    // jet-a's last deployment is the broken one (failed); small-2 is what it serves. The report
    // must say what /v1/models says, whatever the device did.
    const served = await fleet.device('jet-a').serving();
    const a = by.get('jet-a');
    t.equal(a?.serving ? `${a.serving.name}@${a.serving.version}` : 'none', served, 'the per-device line names what /v1/models shows for jet-a');
    if (served === 'small@2.0.0') {
      t.match(a, { result: 'still_serving' }, 'an "ok" answer while small-2 still serves is reported as STILL SERVES');
      t.equal(r.code, 1);
      t.match(out.error, { code: 'FLEET_ROLLBACK_INCOMPLETE' });
    } else {
      t.match(a, { result: 'rolled_back' });
      t.equal(r.code, 0, r.stdout);
    }
    const human = await rig.fleet(['rollout', 'rollback', good.deploymentId, '--key', key]);
    t.match(human.stdout, /^rolled back small-2 on 3 device\(s\): .*\n(\s+jet-[abc]\s+.*\n?){3}/, 'one line per device');
    t.match(human.stdout, /jet-c\s+offline: its previous desired is retained again/);
  });

  await Promise.all(['jet-a', 'jet-b'].map(async (id) => t.equal(await fleet.device(id).stop(), 0, `${id} stops cleanly`)));
});
