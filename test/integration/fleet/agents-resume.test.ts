import t from 'tap';
import { spawn } from 'node:child_process';
import { FLEET_JS, REPO_ROOT, cleanEnv } from '../../helpers/cli.js';
import { RealFleet } from '../../helpers/real-fleet.js';

/**
 * Controller crashes and device outages against three REAL agents (separate `jetson-agent run`
 * processes, ONNX Runtime path, generated models) on a real mosquitto: a controller SIGKILLed
 * during wave 2 is resumed from its retained record; an agent that is down during a rollout is
 * pending, and catches up from its retained desired when it starts again.
 */
const IDS = ['jet-x', 'jet-y', 'jet-z'];
const FAST = ['--health-gate', '1s', '--wave-timeout', '3m', '--max-failures', '0'];

t.test('controller crash and an offline agent, with three real agents', async (t) => {
  const fleet = await RealFleet.create(t, IDS.map((id) => ({ id, groups: ['lab'] })));
  await fleet.start();
  const { rig } = fleet;
  const key = fleet.keys.key;

  await t.test('a controller killed (SIGKILL) during wave 2 is resumed and the rollout completes', async (t) => {
    const m = await fleet.manifest({ version: '2.0.0', seed: 3, deploymentId: 'small-2' });
    const child = spawn(process.execPath, [FLEET_JS, 'rollout', 'start', '--manifest', m.file, '--key', key, '--target', 'group:lab', '--waves', '1,2,100%', ...FAST, ...rig.brokerArgs()], {
      cwd: REPO_ROOT, env: cleanEnv(), stdio: 'ignore',
    });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_c, sig) => resolve(sig)));
    t.teardown(() => void child.kill('SIGKILL'));
    const s = await rig.session(m.deploymentId);
    t.teardown(() => s.close());
    const t0 = Date.now();
    while ((s.rollouts.get(m.deploymentId)?.progress.wave ?? 0) < 1 && Date.now() - t0 < 120_000) await s.nextChange(1000);
    child.kill('SIGKILL');
    t.equal(await exited, 'SIGKILL');
    const killed = s.rollouts.get(m.deploymentId);
    t.match(killed?.progress, { phase: 'running', wave: 1 }, 'killed during wave 2; the retained record says running');
    const wave3 = killed?.plan.waves[2]?.[0] ?? '';
    t.notOk(s.view.desired.get(wave3), `${wave3} (wave 3) was not notified before the kill`);

    const busy = await rig.fleet(['rollout', 'resume', m.deploymentId, '--key', key]);
    t.equal(busy.code, 1);
    t.match(busy.stderr, /FLEET_ROLLOUT_BUSY/, 'the dead controller\'s recent heartbeat is respected');
    const r = await rig.fleet(['rollout', 'resume', m.deploymentId, '--key', key, '--force', '--json'], 180_000);
    t.equal(r.code, 0, `${r.stdout}\n${r.stderr}\n${fleet.diagnostics()}`);
    t.match(JSON.parse(r.stdout), { phase: 'done', counts: { succeeded: 3, failed: 0 } });
    for (const id of IDS) t.match(await fleet.terminal(id, m.deploymentId), { state: 'active' }, `${id} active`);
    t.same(await Promise.all(IDS.map((id) => fleet.device(id).serving())), IDS.map(() => 'small@2.0.0'));
    const st = await rig.fleet(['rollout', 'status', m.deploymentId]);
    t.equal(st.code, 0, st.stderr);
    t.match(st.stdout, /done/);
  });

  await t.test('an agent down during the rollout is pending, then catches up from its retained desired', async (t) => {
    const off = fleet.device('jet-z');
    t.equal(await off.stop(), 0, 'stopped gracefully (retained offline status)');
    const m = await fleet.manifest({ version: '3.0.0', seed: 5, deploymentId: 'small-3' });
    const r = await rig.fleet(['rollout', 'start', '--manifest', m.file, '--key', key, '--target', 'group:lab', '--waves', '1,100%', ...FAST, '--json'], 180_000);
    t.equal(r.code, 0, `${r.stdout}\n${r.stderr}\n${fleet.diagnostics()}`);
    t.match(JSON.parse(r.stdout), { phase: 'done', counts: { succeeded: 2, failed: 0, pending: 1 } }, 'the offline agent is pending, not failed');
    const st = await rig.fleet(['rollout', 'status', m.deploymentId, '--json']);
    const rec = JSON.parse(st.stdout) as { plan: { waves: string[][] } };
    t.equal(rec.plan.waves[1]?.at(-1), 'jet-z', 'the offline device is ordered last');

    off.start();
    const rep = await fleet.terminal('jet-z', m.deploymentId);
    // The restart kept the model the last rollout deployed (not the demo model): it is what 3.0.0 replaced.
    t.match(rep, { state: 'active', model: { name: 'small', version: '3.0.0' }, previous: { name: 'small', version: '2.0.0' } });
    t.equal(await off.serving(), 'small@3.0.0', 'it serves the version it missed');
    const list = await rig.fleet(['devices', '--group', 'lab', '--json']);
    t.equal(list.code, 0, list.stderr);
    const rows = (JSON.parse(list.stdout) as { devices: { id: string; online: boolean; actual: { name: string; version: string } | null; drift: string; simulated: boolean }[] }).devices;
    t.same(
      rows.map((d) => [d.id, d.online, d.actual && `${d.actual.name} ${d.actual.version}`, d.drift, d.simulated]),
      IDS.map((id) => [id, true, 'small 3.0.0', 'in-sync', false]),
    );
  });

  await Promise.all(IDS.map(async (id) => t.equal(await fleet.device(id).stop(), 0, `${id} stops cleanly`)));
});
