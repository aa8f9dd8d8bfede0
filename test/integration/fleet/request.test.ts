import t from 'tap';
import { RealFleet } from '../../helpers/real-fleet.js';

/**
 * `jetson-fleet request ID OP` against a real agent process on a real mosquitto (per-device
 * account, `%u` ACL): signed and clear requests, the response matched by transaction, and the
 * coded errors an operator sees for a refused key, an unknown op and a device that never answers.
 */
const DEVICE = 'jet-req';

t.test('jetson-fleet request against a real agent', async (t) => {
  const fleet = await RealFleet.create(t, [{ id: DEVICE, groups: ['lab'] }]);
  await fleet.start();
  const { rig, keys } = fleet;

  await t.test('ping in clear (no key) and signed', async (t) => {
    const r = await rig.fleet(['request', DEVICE, 'ping', '--json']);
    t.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { deviceId: string; op: string; status: string; transaction: string; elapsedMs: number; data: { pong: boolean; deviceId: string; agentVersion: string } };
    t.match(out, { deviceId: DEVICE, op: 'ping', status: 'ok', data: { pong: true, deviceId: DEVICE } });
    t.match(out.transaction, /^ping-[0-9a-f]{12}$/);
    t.ok(out.elapsedMs >= 0 && out.elapsedMs < 30_000);
    const human = await rig.fleet(['request', DEVICE, 'ping', '--key', keys.key]);
    t.equal(human.code, 0, human.stderr);
    t.match(human.stdout, new RegExp(`^${DEVICE} ping: ok in \\d+ ms\\npong: true`));
  });

  await t.test('get-config is signed and answers the redacted config', async (t) => {
    const r = await rig.fleet(['request', DEVICE, 'get-config', '--key', keys.key, '--json']);
    t.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { data: { deviceId: string; groups: string[]; mqtt: { username: string; password: string } } };
    t.equal(out.data.deviceId, DEVICE);
    t.same(out.data.groups, ['lab']);
    t.equal(out.data.mqtt.username, DEVICE);
    t.equal(out.data.mqtt.password, '***', 'the MQTT password is redacted');
    t.notMatch(r.stdout, `${DEVICE}-secret`, 'the password appears nowhere in the output');
    const human = await rig.fleet(['request', DEVICE, 'get-config', '--key', keys.key]);
    t.equal(human.code, 0, human.stderr);
    t.match(human.stdout, /deviceId: jet-req/);
    t.notMatch(human.stdout, `${DEVICE}-secret`);
  });

  await t.test('plugin-status answers this (non-Jetson) host\'s plugin state', async (t) => {
    const r = await rig.fleet(['request', DEVICE, 'plugin-status', '--key', keys.key, '--json']);
    t.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { status: string; data: unknown };
    t.equal(out.status, 'ok');
    t.type(out.data, 'object');
    t.not(out.data, null);
  });

  await t.test('a non-ping op without --key is refused before anything is sent', async (t) => {
    const r = await rig.fleet(['request', DEVICE, 'get-config']);
    t.equal(r.code, 2, r.stderr);
    t.match(r.stderr, /USAGE: The "get-config" request must be signed: pass --key/);
  });

  await t.test('a request signed with a key the device does not trust is refused, with the device\'s reason', async (t) => {
    const stranger = await rig.makeKeys('stranger');
    const r = await rig.fleet(['request', DEVICE, 'get-config', '--key', stranger.key, '--timeout', '20s']);
    t.equal(r.code, 1, r.stdout);
    t.match(r.stderr, new RegExp(`FLEET_REQUEST_REJECTED: Device ${DEVICE} refused the get-config request: MANIFEST_UNKNOWN_KEY`));
    t.match(r.stderr, /rollout\.fleetPublicKeys/, 'the hint says where trusted keys live');
    t.notMatch(r.stderr, `${DEVICE}-secret`);
    const json = await rig.fleet(['request', DEVICE, 'rollback', '--key', stranger.key, '--json']);
    t.equal(json.code, 1);
    t.match(JSON.parse(json.stdout), { error: { code: 'FLEET_REQUEST_REJECTED' } });
  });

  await t.test('an unknown op is refused locally, naming the known ones', async (t) => {
    const r = await rig.fleet(['request', DEVICE, 'reboot', '--key', keys.key]);
    t.equal(r.code, 1);
    t.match(r.stderr, /REQUEST_UNKNOWN_OP: Unknown request op "reboot"; nothing was sent\. Known ops: ping, rollback, plugin-status, plugin-rebuild, restart-inference, get-config\./);
  });

  await t.test('timeouts say whether the device is unknown or offline', async (t) => {
    const t0 = Date.now();
    const none = await rig.fleet(['request', 'no-such-device', 'ping', '--timeout', '1s']);
    t.equal(none.code, 1);
    t.match(none.stderr, /FLEET_REQUEST_TIMEOUT: No response from no-such-device to ping within 1s; the device is no retained status/);
    t.match(none.stderr, /--topic-prefix/);
    t.ok(Date.now() - t0 < 15_000, 'gives up after the timeout');

    t.equal(await fleet.device(DEVICE).stop(), 0);
    const off = await rig.fleet(['request', DEVICE, 'get-config', '--key', keys.key, '--timeout', '1s', '--json']);
    t.equal(off.code, 1);
    const err = (JSON.parse(off.stdout) as { error: { code: string; message: string; hint: string } }).error;
    t.equal(err.code, 'FLEET_REQUEST_TIMEOUT');
    t.match(err.message, /the device is offline since .* \(the agent stopped\)/);
    t.match(err.hint, /offline/);
  });
});
