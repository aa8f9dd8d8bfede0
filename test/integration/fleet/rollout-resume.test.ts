import t from 'tap';
import { spawn } from 'node:child_process';
import { FLEET_JS, REPO_ROOT, cleanEnv } from '../../helpers/cli.js';
import { Mosquitto } from '../../helpers/mosquitto.js';
import { FleetRig } from '../../helpers/fleet-rig.js';
import { SimulatedDevice } from '../../../agent/src/fleet/simulator/device.js';
import { KeyRing } from '../../../agent/src/core/envelope.js';
import { PREFIX } from '../../helpers/mosquitto.js';
import { readFileSync } from 'node:fs';

const policy = ['--health-gate', '0s', '--wave-timeout', '60s'];

t.test('a controller killed mid-rollout (SIGKILL) is resumed from the retained record and finishes', async (t) => {
  const broker = await new Mosquitto().start();
  t.teardown(() => broker.close());
  const rig = new FleetRig(broker, t.testdir());
  const k = await rig.makeKeys();
  const sim = await rig.simulate({ count: 10, stepDelayMs: 150 });
  t.teardown(() => sim.stop());
  const m = await rig.manifest('3.0.0', k.key);

  const child = spawn(process.execPath, [FLEET_JS, 'rollout', 'start', '--manifest', m.file, '--key', k.key, '--target', 'all', '--waves', '1,50%,100%', ...policy, ...rig.brokerArgs()], {
    cwd: REPO_ROOT, env: cleanEnv(), stdio: 'ignore',
  });
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_c, sig) => resolve(sig)));
  const watch = await rig.session(m.deploymentId);
  t.teardown(() => watch.close());
  // Kill it once wave 2 has been notified (the record says so), before the rollout is done.
  for (let i = 0; i < 60 && (watch.rollouts.get(m.deploymentId)?.progress.wave ?? 0) < 1; i++) await watch.nextChange(1000);
  child.kill('SIGKILL');
  t.equal(await exited, 'SIGKILL');
  const killed = watch.rollouts.get(m.deploymentId);
  t.equal(killed?.progress.phase, 'running', 'the retained record says running after the kill');

  const busy = await rig.fleet(['rollout', 'resume', m.deploymentId, '--key', k.key]);
  t.equal(busy.code, 1, 'a fresh heartbeat blocks a second controller');
  t.match(busy.stderr, /FLEET_ROLLOUT_BUSY/);

  const r = await rig.fleet(['rollout', 'resume', m.deploymentId, '--key', k.key, '--force', '--json']);
  t.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { phase: string; counts: { succeeded: number } };
  t.equal(out.phase, 'done');
  t.equal(out.counts.succeeded, 10);
  t.same(sim.devices.map((d) => d.state), Array(10).fill('active'));
});

t.test('an offline device is pending, and catches up from its retained desired when it comes back', async (t) => {
  const broker = await new Mosquitto().start();
  t.teardown(() => broker.close());
  const rig = new FleetRig(broker, t.testdir());
  const k = await rig.makeKeys();
  const sim = await rig.simulate({ count: 6, offlineRate: 0.2 });
  t.teardown(() => sim.stop());
  t.equal(sim.offline.length, 1);
  const offId = sim.offline[0] ?? '';
  const m = await rig.manifest('4.0.0', k.key);
  const r = await rig.fleet(['rollout', 'start', '--manifest', m.file, '--key', k.key, '--target', 'group:lab', '--waves', '1,100%', ...policy, '--json']);
  t.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { phase: string; counts: { succeeded: number; pending: number } };
  t.equal(out.phase, 'done');
  t.equal(out.counts.succeeded, 5);
  t.equal(out.counts.pending, 1, 'the offline device is pending, not failed: ' + r.stdout);

  // The device comes back (a fresh simulated device with the same id): the retained desired reaches it.
  const back = new SimulatedDevice({
    id: offId, groups: ['lab'], prefix: PREFIX, keys: new KeyRing([{ keyId: k.keyId, publicKey: readFileSync(k.pub, 'utf8') }]),
    connect: rig.connect, stepDelayMs: 10, fails: false, now: Date.now,
  });
  await back.start();
  t.teardown(() => back.stop());
  const s = await rig.session();
  t.teardown(() => s.close());
  for (let i = 0; i < 30 && s.view.reports.get(offId)?.value.state !== 'active'; i++) await s.nextChange(1000);
  t.equal(s.view.reports.get(offId)?.value.deploymentId, m.deploymentId, 'it deployed the rollout it missed');

  const list = await rig.fleet(['devices', '--group', 'lab', '--json']);
  t.equal(list.code, 0, list.stderr);
  const rows = (JSON.parse(list.stdout) as { devices: { id: string; online: boolean; board: { jetpack: string }; actual: { name: string; version: string } | null; drift: string; health: string; deployment: { state: string } | null; simulated: boolean }[] }).devices;
  t.equal(rows.length, 6);
  t.ok(rows.every((d) => d.online && d.simulated && d.board.jetpack === '5.1.2' && d.health === 'ok'));
  t.ok(rows.every((d) => d.actual?.version === '4.0.0' && d.deployment?.state === 'active' && d.drift === 'in-sync'), 'every device reports the new model active, in sync with its desired');
  const table = await rig.fleet(['devices']);
  t.match(table.stdout, /6 device\(s\), 6 online/);
  const one = await rig.fleet(['device', offId]);
  t.equal(one.code, 0, one.stderr);
  t.match(one.stdout, new RegExp(`deployment: ${m.deploymentId} active`));
  const none = await rig.fleet(['device', 'no-such-device']);
  t.equal(none.code, 1);
  t.match(none.stderr, /FLEET_DEVICE_NOT_FOUND/);
});

t.test('rollout abort from another process stops the running controller and rolls back the current wave; rollback covers every wave', async (t) => {
  const broker = await new Mosquitto().start();
  t.teardown(() => broker.close());
  const rig = new FleetRig(broker, t.testdir());
  const k = await rig.makeKeys();
  // Slow enough that the abort below lands while wave 2 is still in flight, even on a loaded machine.
  const sim = await rig.simulate({ count: 6, stepDelayMs: 3000 });
  t.teardown(() => sim.stop());
  const m = await rig.manifest('5.0.0', k.key);
  const child = spawn(process.execPath, [FLEET_JS, 'rollout', 'start', '--manifest', m.file, '--key', k.key, '--target', 'all', '--waves', '1,100%', ...policy, ...rig.brokerArgs()], {
    cwd: REPO_ROOT, env: cleanEnv(), stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const watch = await rig.session(m.deploymentId);
  t.teardown(() => watch.close());
  for (let i = 0; i < 60 && (watch.rollouts.get(m.deploymentId)?.progress.notifiedInWave ?? 0) < 5; i++) await watch.nextChange(1000);

  const ab = await rig.fleet(['rollout', 'abort', m.deploymentId, '--key', k.key, '--reason', 'bad metrics on the dashboard']);
  t.equal(ab.code, 0, ab.stderr);
  t.match(ab.stdout, /aborted \S+; rolled back wave 2 on 5 device\(s\): 5 canceled/, 'each device of wave 2 said it canceled the deployment it was working on');
  t.equal(await exited, 1, 'the running controller stops');
  t.match(stderr, /FLEET_ROLLOUT_ABORTED.*bad metrics on the dashboard/);
  const rec = watch.rollouts.get(m.deploymentId);
  t.equal(rec?.progress.phase, 'aborted');
  const wave2 = rec?.plan.waves[1] ?? [];
  await watch.sync();
  for (const id of wave2) t.equal(watch.view.desired.get(id), '', `${id}: desired cleared (it had none before)`);

  const rb = await rig.fleet(['rollout', 'rollback', m.deploymentId, '--key', k.key]);
  t.equal(rb.code, 0, rb.stderr);
  t.match(rb.stdout, /rolled back \S+ on 6 device\(s\): 1 rolled back, 5 nothing to undo/, 'rollback includes the promoted canary; the canceled ones have nothing to undo');
  await watch.sync();
  const canary = rec?.plan.waves[0]?.[0] ?? '';
  const states = (): string[] => sim.devices.map((d) => `${d.id}:${d.state ?? '-'}`);
  for (let i = 0; i < 20 && sim.devices.some((d) => d.state !== (d.id === canary ? 'rolled_back' : 'canceled')); i++) await watch.nextChange(500);
  t.ok(sim.devices.every((d) => d.state === (d.id === canary ? 'rolled_back' : 'canceled')), `the canary rolled back, the rest canceled: ${states().join(',')}`);
});
