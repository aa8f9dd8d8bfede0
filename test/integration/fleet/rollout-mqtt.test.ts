import t from 'tap';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { FLEET_JS, runCli } from '../../helpers/cli.js';
import { CONTROLLER, PREFIX } from '../../helpers/mosquitto.js';
import { Mosquitto } from '../../helpers/mosquitto.js';
import { FleetRig } from '../../helpers/fleet-rig.js';

/**
 * The rollout controller (real `jetson-fleet` subprocesses) against a real mosquitto and
 * SIMULATED devices (fleet/simulator: the device protocol, not the agent).
 */
const policy = ['--health-gate', '0s', '--wave-timeout', '30s'];

t.test('two waves succeed; a later failing rollout trips the threshold and its wave is rolled back to the previous desired', async (t) => {
  const broker = await new Mosquitto().start();
  t.teardown(() => broker.close());
  const rig = new FleetRig(broker, t.testdir());
  const k = await rig.makeKeys();
  const sim = await rig.simulate({ count: 8, group: 'lab' });
  t.teardown(() => sim.stop());

  const a = await rig.manifest('1.0.0', k.key);
  const dry = await rig.fleet(['rollout', 'start', '--manifest', a.file, '--key', k.key, '--target', 'group:lab', '--waves', '1,100%', '--dry-run', ...policy]);
  t.equal(dry.code, 0, dry.stderr);
  t.match(dry.stdout, /8 compatible device\(s\) \(8 online/);
  t.match(dry.stdout, /\n\s*2\s+7\s+7\s+0\s/, 'wave 2 holds the other 7');
  const s0 = await rig.session();
  t.equal(s0.rollouts.size, 0, 'a dry run publishes nothing');
  await s0.close();

  const ok = await rig.fleet(['rollout', 'start', '--manifest', a.file, '--key', k.key, '--target', 'group:lab', '--waves', '1,100%', ...policy, '--json']);
  t.equal(ok.code, 0, ok.stderr + ok.stdout);
  const res = JSON.parse(ok.stdout) as { phase: string; counts: { succeeded: number; failed: number } };
  t.equal(res.phase, 'done');
  t.equal(res.counts.succeeded, 8);
  t.same(sim.devices.map((d) => d.state), Array(8).fill('active'), 'every simulated device is active');

  const st = await rig.fleet(['rollout', 'status', a.deploymentId]);
  t.equal(st.code, 0, st.stderr);
  t.match(st.stdout, new RegExp(`rollout ${a.deploymentId} \\(target group:lab\\): done`));

  // Rollout B: every other device (not the canary) fails at warming.
  const sim2 = await rig.simulate({ count: 8, group: 'lab2', idPrefix: 'sim-bad', failRate: 0.5, stepDelayMs: 10 });
  t.teardown(() => sim2.stop());
  const b0 = await rig.manifest('0.9.0', k.key);
  const first = await rig.fleet(['rollout', 'start', '--manifest', b0.file, '--key', k.key, '--target', 'group:lab2', '--waves', '100%', '--max-failures', '100%', ...policy]);
  t.equal(first.code, 0, 'baseline 0.9.0 everywhere first (the failures do not trip a 100% threshold)');
  const b = await rig.manifest('2.0.0', k.key);
  const bad = await rig.fleet(['rollout', 'start', '--manifest', b.file, '--key', k.key, '--target', 'group:lab2', '--waves', '1,100%', '--max-failures', '2', ...policy]);
  t.equal(bad.code, 1);
  t.match(bad.stderr, /FLEET_ROLLOUT_ABORTED/);
  t.match(bad.stderr, /failure threshold tripped in wave 2/);

  const s = await rig.session();
  t.teardown(() => s.close());
  const rec = s.rollouts.get(b.deploymentId);
  t.equal(rec?.progress.phase, 'aborted');
  const wave2 = rec?.plan.waves[1] ?? [];
  t.equal(wave2.length, 7);
  const baseline = s.rollouts.get(b0.deploymentId);
  const baselineText = JSON.stringify(baseline?.envelope);
  for (const id of wave2) {
    t.equal(s.view.desired.get(id), baselineText, `${id}: the previous desired (0.9.0) is re-published`);
    const state = s.view.reports.get(id)?.value.state;
    t.ok(state === 'failed' || state === 'rolled_back', `${id}: ${state} (failed, or rolled back after the abort)`);
  }
  t.equal(s.view.reports.get(rec?.plan.waves[0]?.[0] ?? '')?.value.state, 'active', 'the promoted canary wave is left alone');
});

t.test('a manifest signed with a key the devices do not trust is rejected by every device', async (t) => {
  const broker = await new Mosquitto().start();
  t.teardown(() => broker.close());
  const rig = new FleetRig(broker, t.testdir());
  await rig.makeKeys();
  const rogue = await rig.makeKeys('rogue');
  const sim = await rig.simulate({ count: 5 });
  t.teardown(() => sim.stop());
  const m = await rig.manifest('6.6.6', rogue.key);
  const r = await rig.fleet(['rollout', 'start', '--manifest', m.file, '--key', rogue.key, '--target', 'all', '--waves', '100%', ...policy]);
  t.equal(r.code, 1);
  t.match(r.stderr, /FLEET_ROLLOUT_ABORTED/);
  const s = await rig.session();
  t.teardown(() => s.close());
  for (const d of sim.devices) {
    const rep = s.view.reports.get(d.id)?.value;
    t.equal(rep?.state, 'rejected', `${d.id} rejected it`);
    t.equal(rep?.error?.code, 'MANIFEST_UNKNOWN_KEY');
  }

  // The same broker and keys from an agent-style config file instead of flags.
  const cfg = path.join(rig.dir, 'fleet.yaml');
  writeFileSync(cfg, stringify({ mqtt: { url: broker.controllerUrl, username: CONTROLLER.username, password: CONTROLLER.password, topicPrefix: PREFIX } }));
  const env = { JETSON_AGENT_STATE_DIR: path.join(rig.dir, 'state') };
  const dev = await runCli(['devices', '--json', '--config', cfg], { script: FLEET_JS, env });
  t.equal(dev.code, 0, dev.stderr);
  t.equal((JSON.parse(dev.stdout) as { devices: unknown[] }).devices.length, 5);
  const watch = await runCli(['rollout', 'status', m.deploymentId, '--watch', '--config', cfg], { script: FLEET_JS, env });
  t.equal(watch.code, 1, 'an aborted rollout: status exits 1');
  t.match(watch.stdout, /: aborted/);
  const missing = await runCli(['rollout', 'status', 'no-such-rollout', '--config', cfg], { script: FLEET_JS, env });
  t.match(missing.stderr, /FLEET_ROLLOUT_NOT_FOUND/);
});
