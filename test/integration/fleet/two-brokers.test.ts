import t from 'tap';
import { spawn } from 'node:child_process';
import mqtt from 'mqtt';
import { FLEET_JS, REPO_ROOT, cleanEnv } from '../../helpers/cli.js';
import { CONTROLLER, Mosquitto, PREFIX } from '../../helpers/mosquitto.js';
import { FleetRig } from '../../helpers/fleet-rig.js';

/**
 * Nothing in the controller assumes one broker node (docs/fleet-scale.md): two REAL mosquitto
 * nodes joined by a bridge for `{p}/#` in both directions (what a cluster does for its nodes:
 * route messages and replicate retained state). SIMULATED devices connect to node A. A
 * controller on node B starts a rollout and is SIGKILLed in wave 2; a second controller on
 * node A resumes it from the retained record and finishes; `rollout status` on node B shows
 * the end. Meanwhile two members of one shared subscription on node A split the devices'
 * reports between them, while the controllers' plain subscriptions saw every device finish:
 * a rollout owner must not sit behind `$share/`.
 */
const policy = ['--health-gate', '0s', '--wave-timeout', '90s', '--max-failures', '0'];

t.test('a rollout across two bridged broker nodes, resumed by a second controller on the other node', async (t) => {
  const a = await new Mosquitto().start();
  t.teardown(() => a.close());
  const b = await new Mosquitto({
    extraConfig: [
      'connection node-a',
      `address 127.0.0.1:${a.controllerPort}`,
      `remote_username ${CONTROLLER.username}`,
      `remote_password ${CONTROLLER.password}`,
      `topic ${PREFIX}/# both 1`,
      'cleansession true',
      'try_private true',
    ],
  }).start();
  t.teardown(() => b.close());
  const dir = t.testdir();
  const onA = new FleetRig(a, dir);
  const onB = new FleetRig(b, dir);
  const k = await onA.makeKeys();
  onB.keys = k;
  const sim = await onA.simulate({ count: 6, stepDelayMs: 400 });
  t.teardown(() => sim.stop());

  // Two members of one shared subscription on node A (MQTT 5 §4.8.2; mosquitto accepts it from
  // 3.1.1 clients), and one plain subscriber to the same filter, counting live reports.
  const counts = { plain: 0, shared: [0, 0] };
  for (const n of [0, 1, 2]) {
    const c = await mqtt.connectAsync(a.controllerUrl, { clientId: `ingest-${n}`, username: CONTROLLER.username, password: CONTROLLER.password });
    t.teardown(() => c.endAsync());
    c.on('message', (_topic, _payload, packet) => {
      if (packet.retain) return;
      if (n === 0) counts.plain++;
      else counts.shared[n - 1]!++;
    });
    await c.subscribeAsync(n === 0 ? `${PREFIX}/devices/+/deployment` : `$share/ingest/${PREFIX}/devices/+/deployment`, { qos: 1 });
  }

  // Node B must see node A's devices before a controller there can target them.
  const viewB = await onB.session();
  t.teardown(() => viewB.close());
  for (let i = 0; i < 30 && viewB.view.ids().length < 6; i++) await viewB.nextChange(1000);
  t.equal(viewB.view.ids().length, 6, 'node B holds the retained status of the devices connected to node A');

  const m = await onA.manifest('7.0.0', k.key);
  const child = spawn(process.execPath, [FLEET_JS, 'rollout', 'start', '--manifest', m.file, '--key', k.key, '--target', 'all', '--waves', '1,2,100%', ...policy, ...onB.brokerArgs()], {
    cwd: REPO_ROOT, env: cleanEnv(), stdio: 'ignore',
  });
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_c, sig) => resolve(sig)));
  t.teardown(() => void child.kill('SIGKILL'));
  const watchA = await onA.session(m.deploymentId);
  t.teardown(() => watchA.close());
  for (let i = 0; i < 90 && (watchA.rollouts.get(m.deploymentId)?.progress.wave ?? 0) < 1; i++) await watchA.nextChange(1000);
  child.kill('SIGKILL');
  t.equal(await exited, 'SIGKILL');
  t.match(watchA.rollouts.get(m.deploymentId)?.progress, { phase: 'running', wave: 1 }, 'node A holds the record the controller on node B wrote, running in wave 2');

  const r = await onA.fleet(['rollout', 'resume', m.deploymentId, '--key', k.key, '--force', '--json'], 120_000);
  t.equal(r.code, 0, r.stderr);
  t.match(JSON.parse(r.stdout), { phase: 'done', counts: { succeeded: 6, failed: 0, timedOut: 0 } }, 'the second controller, on node A, finished it');
  t.ok(sim.devices.every((d) => d.state === 'active'), 'every device is active');

  const st = await onB.fleet(['rollout', 'status', m.deploymentId, '--json']);
  t.equal(st.code, 0, st.stderr);
  t.match(JSON.parse(st.stdout), { progress: { phase: 'done' } }, 'node B shows the end the controller on node A wrote');

  const [one = 0, two = 0] = counts.shared;
  t.ok(counts.plain >= 6 * 8, `a plain subscriber got every report (${counts.plain})`);
  t.equal(one + two, counts.plain, 'the members of the shared subscription got them between them');
  t.ok(one > 0 && two > 0 && one < counts.plain && two < counts.plain, `each member got only its share (${one} + ${two})`);
});
