import t from 'tap';
import { spawn } from 'node:child_process';
import mqtt from 'mqtt';
import { DeviceMqtt, type DeviceMqttOptions } from '../../../agent/src/mqtt/client.js';
import { checkMqttIdentity } from '../../../agent/src/mqtt/identity.js';
import { EmbeddedBroker } from '../../../agent/src/mqtt/embedded-broker.js';
import { deviceTopics, type StatusPayload } from '../../../agent/src/core/contracts/topics.js';
import { AgentError } from '../../../agent/src/core/errors.js';
import { silentLogger } from '../../../agent/src/core/log.js';
import { Mosquitto, PREFIX, freePort, makeClientCert } from '../../helpers/mosquitto.js';
import { Watcher } from '../../helpers/mqtt-watch.js';
import { REPO_ROOT } from '../../helpers/cli.js';

const USERS = { 'dev-a': 'pw-a', 'dev-b': 'pw-b' };

function device(url: string, id: string, extra: Partial<DeviceMqttOptions> = {}): DeviceMqtt {
  return new DeviceMqtt({
    url,
    clientId: id,
    username: id,
    password: USERS[id as keyof typeof USERS] ?? '',
    protocolVersion: 4,
    keepaliveSec: 30,
    reconnectMinMs: 50,
    reconnectMaxMs: 400,
    offlineQueueMax: 100,
    topics: deviceTopics(PREFIX, id),
    online: () => ({ agentVersion: '0.1.0-test', board: { isJetson: false, model: null, soc: null, jetpack: null, tensorrt: null } }),
    log: silentLogger,
    ...extra,
  });
}

t.test('against a real mosquitto with passwords and %u ACLs', async (t) => {
  const broker = await new Mosquitto({ users: USERS }).start();
  t.teardown(() => broker.close());
  const watch = await Watcher.connect(broker.controllerUrl, [`${PREFIX}/devices/#`]);
  t.teardown(() => watch.close());

  await t.test('retained online status on connect, offline before a graceful disconnect', async (t) => {
    const dev = device(broker.url, 'dev-a');
    await dev.start();
    await dev.waitConnected();
    const online = await watch.waitFor((m) => m.topic === `${PREFIX}/devices/dev-a/status` && m.json<StatusPayload>().state === 'online');
    t.equal(online.json<StatusPayload>().agentVersion, '0.1.0-test');
    t.equal(online.json<StatusPayload>().v, 1);
    const offline = watch.next((m) => m.topic === `${PREFIX}/devices/dev-a/status` && m.json<StatusPayload>().state === 'offline');
    await dev.stop();
    t.match((await offline).json<StatusPayload>(), { reason: 'graceful', agentVersion: '0.1.0-test' }, 'offline keeps the device facts');
    // A late subscriber sees the retained offline.
    const late = await Watcher.connect(broker.controllerUrl, [`${PREFIX}/devices/dev-a/status`]);
    const retained = await late.waitFor(() => true);
    t.ok(retained.retain, 'status is retained');
    t.equal(retained.json<StatusPayload>().state, 'offline');
    await late.close();
  });

  await t.test('a killed agent leaves the retained last will offline', async (t) => {
    // A separate process running the built client, then SIGKILL: no DISCONNECT, so the broker publishes the will.
    const script = `
      import { DeviceMqtt } from './agent/dist/mqtt/client.js';
      import { deviceTopics } from './agent/dist/core/contracts/topics.js';
      import { silentLogger } from './agent/dist/core/log.js';
      const d = new DeviceMqtt({ url: ${JSON.stringify(broker.url)}, clientId: 'dev-b', username: 'dev-b', password: 'pw-b', protocolVersion: 4,
        keepaliveSec: 30, reconnectMaxMs: 1000, offlineQueueMax: 10, topics: deviceTopics(${JSON.stringify(PREFIX)}, 'dev-b'), online: () => ({}), log: silentLogger });
      await d.start(); await d.waitConnected(); console.log('connected');`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => child.stdout.on('data', (d: Buffer) => d.toString().includes('connected') && resolve()));
    await watch.waitFor((m) => m.topic === `${PREFIX}/devices/dev-b/status` && m.json<StatusPayload>().state === 'online');
    const will = watch.next((m) => m.topic === `${PREFIX}/devices/dev-b/status` && m.json<StatusPayload>().state === 'offline');
    child.kill('SIGKILL');
    t.same((await will).json(), { v: 1, state: 'offline', reason: 'will' });
  });

  await t.test("ACL: a device's credentials cannot publish to another device's topics", async (t) => {
    const dev = device(broker.url, 'dev-a');
    await dev.start();
    await dev.waitConnected();
    t.teardown(() => dev.stop());
    // mosquitto 2.0.11 acknowledges a denied QoS 1 publish and drops it (docs/reference/mqtt-broker.md "mosquitto ACLs").
    await dev.publishRaw(`${PREFIX}/devices/dev-b/health`, '{"forged":true}', false);
    await dev.publishRaw(`${PREFIX}/devices/dev-b/status`, '{"v":1,"state":"online","forged":true}', false);
    await dev.publishRaw(`${PREFIX}/devices/dev-a/events`, '{"marker":true}', false);
    // Same connection, same broker: per-client order is kept, so the marker arriving means the forged ones would have too.
    await watch.waitFor((m) => m.topic === `${PREFIX}/devices/dev-a/events`);
    t.notOk(watch.seen.some((m) => m.body.includes('forged')), 'forged messages never arrived');
    // And a device cannot read another device's desired state: mosquitto filters delivery. (The
    // broker gives this connection the client id dev-a whatever it asks for, so the agent goes first.)
    await dev.stop();
    const spy = await mqtt.connectAsync(broker.url, { username: 'dev-a', password: 'pw-a', clientId: 'dev-a-spy' });
    const got: string[] = [];
    spy.on('message', (topic) => got.push(topic));
    await spy.subscribeAsync([`${PREFIX}/devices/dev-b/desired`, `${PREFIX}/devices/dev-a/desired`], { qos: 1 });
    const own = new Promise<void>((resolve) => spy.on('message', (topic) => topic.endsWith('dev-a/desired') && resolve()));
    await watch.client.publishAsync(`${PREFIX}/devices/dev-b/desired`, 'for-b', { qos: 1 });
    await watch.client.publishAsync(`${PREFIX}/devices/dev-a/desired`, 'for-a', { qos: 1 });
    await own;
    t.same(got, [`${PREFIX}/devices/dev-a/desired`]);
    await spy.endAsync();
    await watch.client.publishAsync(`${PREFIX}/devices/dev-a/desired`, '', { qos: 1, retain: true });
  });

  await t.test('broker restart: online re-published, queued messages delivered, subscriptions kept', async (t) => {
    const dev = device(broker.url, 'dev-a');
    const received: string[] = [];
    await dev.start();
    await dev.subscribe(`${PREFIX}/devices/dev-a/request/+`, (topic, payload) => received.push(payload.toString()));
    await dev.waitConnected();
    t.teardown(() => dev.stop());
    const firstConnects = dev.connectCount;
    await broker.stop();
    // Publish while the broker is down: the message waits in the bounded queue.
    const queued = dev.publish(deviceTopics(PREFIX, 'dev-a').events, { v: 1, ts: new Date().toISOString(), type: 'test.queued', message: 'while down' });
    const reonline = watch.next((m) => m.topic === `${PREFIX}/devices/dev-a/status` && m.json<StatusPayload>().state === 'online');
    const delivered = watch.next((m) => m.body.includes('test.queued'));
    await broker.start();
    await reonline;
    await queued;
    await delivered;
    t.ok(dev.connectCount > firstConnects, 'reconnected');
    await watch.client.publishAsync(`${PREFIX}/devices/dev-a/request/ping`, 'after-restart', { qos: 1 });
    await new Promise<void>((resolve) => {
      const check = setInterval(() => received.includes('after-restart') && (clearInterval(check), resolve()), 20);
    });
    t.same(received, ['after-restart']);
  });

  await t.test('several broker URLs: fails over to the next one', async (t) => {
    const dead = await freePort();
    const dev = device(`mqtt://127.0.0.1:${dead},${broker.url}`, 'dev-a');
    await dev.start();
    await dev.waitConnected();
    t.ok(dev.connected, 'connected through the second URL');
    await dev.stop();
  });

  await t.test('MQTT 5 by config', async (t) => {
    const dev = device(broker.url, 'dev-a', { protocolVersion: 5 });
    await dev.start();
    await dev.waitConnected();
    t.ok(dev.connected);
    await dev.stop();
  });
});

t.test('bounded offline queue drops the oldest with MQTT_NOT_CONNECTED; retained coalesce', async (t) => {
  const port = await freePort(); // nothing listens
  const dev = device(`mqtt://127.0.0.1:${port}`, 'dev-a', { offlineQueueMax: 2 });
  await dev.start();
  const topics = deviceTopics(PREFIX, 'dev-a');
  const ev = (n: number) => dev.publish(topics.events, { v: 1, ts: 'x', type: `e${n}`, message: '' });
  const first = ev(1);
  const firstErr = first.catch((e: unknown) => e);
  void ev(2).catch(() => undefined);
  void ev(3).catch(() => undefined);
  const err = await firstErr;
  t.ok(err instanceof AgentError && err.code === 'MQTT_NOT_CONNECTED');
  t.equal(dev.queuedCount, 2);
  const raw = (n: number) => dev.publishRaw(topics.health.topic, String(n), true);
  const h1 = raw(1);
  void raw(2).catch(() => undefined);
  await h1; // superseded by the newer retained value: resolved, not sent
  t.equal(dev.queuedCount, 2, 'retained health coalesced (and pushed out one event)');
  await dev.stop();
});

t.test('TLS listener with a test CA', async (t) => {
  const broker = await new Mosquitto({ users: USERS, tls: true }).start();
  t.teardown(() => broker.close());
  const { readFileSync } = await import('node:fs');
  const ca = readFileSync(broker.ca?.caCert ?? '');
  const dev = device(broker.tlsUrl, 'dev-a', { ca });
  await dev.start();
  await dev.waitConnected();
  t.ok(dev.connected, 'connected over TLS, server verified against the test CA');
  await dev.stop();
  const untrusted = mqtt.connect(broker.tlsUrl, { username: 'dev-a', password: 'pw-a', reconnectPeriod: 0 });
  const err = await new Promise<Error>((resolve) => untrusted.once('error', resolve));
  t.match(err.message, /self.signed|unable to verify|certificate/i, 'without the CA the server is not trusted');
  untrusted.end(true);
});

t.test('embedded aedes broker (standalone mode)', async (t) => {
  const broker = new EmbeddedBroker({ host: '127.0.0.1', port: 0, log: silentLogger });
  await broker.start();
  t.teardown(() => broker.stop());
  const dev = device(broker.url, 'nano-1');
  await dev.start();
  await dev.waitConnected();
  const got = new Promise<string>((resolve) => void dev.subscribe(`${PREFIX}/devices/nano-1/request/+`, (_t, p) => resolve(p.toString())));
  const ctl = await mqtt.connectAsync(broker.url, { clientId: 'ctl' });
  const status = await new Promise<StatusPayload>((resolve) => {
    ctl.on('message', (_t, p) => resolve(JSON.parse(p.toString()) as StatusPayload));
    void ctl.subscribeAsync(`${PREFIX}/devices/nano-1/status`);
  });
  t.equal(status.state, 'online');
  await ctl.publishAsync(`${PREFIX}/devices/nano-1/request/ping`, 'hi', { qos: 1 });
  t.equal(await got, 'hi');
  await ctl.endAsync();
  await dev.stop();

  const port = Number(new URL(broker.url).port);
  const clash = new EmbeddedBroker({ host: '127.0.0.1', port, log: silentLogger });
  const err = await clash.start().catch((e: unknown) => e);
  t.ok(err instanceof AgentError && err.code === 'MQTT_BROKER_PORT_IN_USE');
  t.match((err as AgentError).hint ?? '', /mqtt\.embedded\.port/);
});

/**
 * Client id theft (issue #14): any device credential connects with ANOTHER device's client id.
 * MQTT 3.1.1 §3.1.4: the broker then disconnects the existing client with that id, so an
 * attacker holding dev-b's password can keep dev-a off the broker. 8 takeover attempts against
 * a connected dev-a; afterwards dev-a publishes a marker on its still-open connection.
 */
async function theft(broker: Mosquitto): Promise<{ kicked: boolean; reconnects: number; attackerIds: string[] }> {
  const watch = await Watcher.connect(broker.controllerUrl, [`${PREFIX}/devices/dev-a/#`]);
  const dev = device(broker.url, 'dev-a');
  await dev.start();
  await dev.waitConnected();
  for (let i = 0; i < 8; i++) {
    const attacker = await mqtt.connectAsync(broker.url, { username: 'dev-b', password: 'pw-b', clientId: 'dev-a', reconnectPeriod: 0, clean: true });
    await attacker.endAsync();
  }
  // The broker writes its "New client connected … as ID" line for every CONNECT it accepted,
  // after it dropped any old connection with that id: wait until all 8 are in the log.
  const accepted = (): string[] => [...broker.log.matchAll(/New client connected from \S+ as (\S+) \(.*u'dev-b'\)/g)].map((m) => m[1] ?? '');
  while (accepted().length < 8) await new Promise((r) => setTimeout(r, 20));
  const marker = watch.next((m) => m.topic === `${PREFIX}/devices/dev-a/events` && m.body.includes('still-here'));
  await dev.publish(deviceTopics(PREFIX, 'dev-a').events, { v: 1, ts: new Date().toISOString(), type: 'test.marker', message: 'still-here' });
  await marker;
  const out = { kicked: broker.log.includes('Client dev-a already connected, closing old connection'), reconnects: dev.connectCount - 1, attackerIds: [...new Set(accepted())] };
  await dev.stop();
  await watch.close();
  return out;
}

t.test('client id theft: another device credential cannot knock a device off the documented broker', async (t) => {
  const broker = await new Mosquitto({ users: USERS }).start();
  t.teardown(() => broker.close());
  const r = await theft(broker);
  t.equal(r.kicked, false, 'mosquitto never closed dev-a for another connection with its client id');
  t.equal(r.reconnects, 0, 'dev-a kept its one connection through 8 attempts');
  t.same(r.attackerIds, ['dev-b'], "the broker gave the attacker its own user name as client id (use_username_as_clientid)");
});

t.test('client id theft on the setup shipped before (no use_username_as_clientid): the attack works', async (t) => {
  const broker = await new Mosquitto({ users: USERS, legacyClientIds: true }).start();
  t.teardown(() => broker.close());
  const r = await theft(broker);
  t.equal(r.kicked, true, 'mosquitto closed dev-a for the attacker');
  t.ok(r.reconnects >= 1, `dev-a had to reconnect (${r.reconnects} times)`);
  t.same(r.attackerIds, ['dev-a']);
});

t.test('client id theft with client certificates (CN = client id): a dev-b certificate cannot take dev-a', async (t) => {
  const broker = await new Mosquitto({ users: USERS, tls: true, clientCerts: true }).start();
  t.teardown(() => broker.close());
  const { readFileSync } = await import('node:fs');
  const testCa = broker.ca;
  if (!testCa) throw new Error('no test CA');
  const ca = readFileSync(testCa.caCert);
  const a = makeClientCert(testCa, 'dev-a');
  const b = makeClientCert(testCa, 'dev-b');
  const watch = await Watcher.connect(broker.controllerUrl, [`${PREFIX}/devices/#`]);
  t.teardown(() => watch.close());
  // The agent's own check passes for the certificate it is given (CN = device id).
  t.doesNotThrow(() => checkMqttIdentity({ deviceId: 'dev-a', username: '', certPem: readFileSync(a.cert) }));
  const dev = device(broker.tlsUrl, 'dev-a', { ca, cert: readFileSync(a.cert), key: readFileSync(a.key), username: '', password: '' });
  await dev.start();
  await dev.waitConnected();
  t.teardown(() => dev.stop());
  for (let i = 0; i < 4; i++) {
    const attacker = await mqtt.connectAsync(broker.tlsUrl, { clientId: 'dev-a', ca, cert: readFileSync(b.cert), key: readFileSync(b.key), reconnectPeriod: 0 });
    await attacker.endAsync();
  }
  while ([...broker.log.matchAll(/New client connected from \S+ as dev-b /g)].length < 4) await new Promise((r) => setTimeout(r, 20));
  const marker = watch.next((m) => m.topic === `${PREFIX}/devices/dev-a/events` && m.body.includes('cert-still-here'));
  await dev.publish(deviceTopics(PREFIX, 'dev-a').events, { v: 1, ts: new Date().toISOString(), type: 'test.marker', message: 'cert-still-here' });
  await marker;
  t.notOk(broker.log.includes('Client dev-a already connected'), 'dev-a was never closed for the attacker');
  t.equal(dev.connectCount, 1);
  // And the dev-b certificate cannot write dev-a's topics (its user name is its CN: %u = dev-b).
  const forger = await mqtt.connectAsync(broker.tlsUrl, { ca, cert: readFileSync(b.cert), key: readFileSync(b.key), reconnectPeriod: 0 });
  const own = watch.next((m) => m.topic === `${PREFIX}/devices/dev-b/events`);
  await forger.publishAsync(`${PREFIX}/devices/dev-a/events`, '{"forged":true}', { qos: 1 });
  await forger.publishAsync(`${PREFIX}/devices/dev-b/events`, '{"own":true}', { qos: 1 });
  await own; // same connection: had the forged one been allowed, it would have arrived first
  await forger.endAsync();
  t.notOk(watch.seen.some((m) => m.body.includes('forged')), "dev-b's certificate cannot write dev-a's topics");
});
