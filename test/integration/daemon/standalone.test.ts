import t from 'tap';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';
import mqtt from 'mqtt';
import { Value } from '@sinclair/typebox/value';
import { HealthSnapshotSchema } from '../../../agent/src/core/contracts/health.js';
import type { StatusPayload } from '../../../agent/src/core/contracts/topics.js';
import { MAIN_JS, cleanEnv } from '../../helpers/cli.js';
import { startNotifyReceiver } from '../../helpers/notify-socket.js';
import { agentCommand, commandEnv } from '../../helpers/runtime.js';

/** `jetson-agent run` with no broker configured: standalone mode with the embedded aedes broker (on the test's runtime, helpers/runtime.ts). */
function startDaemon(env: Record<string, string>, args: readonly string[] = []) {
  const cmd = agentCommand(MAIN_JS);
  const child = spawn(cmd.file, [...cmd.prefix, 'run', ...args], { env: commandEnv(cmd, { ...cleanEnv(), ...env }), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const listeners: (() => void)[] = [];
  const onData = (d: Buffer): void => {
    out += d.toString();
    listeners.forEach((l) => l());
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  // Rejects when the daemon exits first, with its log (instead of leaving the test unfinished).
  const waitLog = (re: RegExp): Promise<RegExpExecArray> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        const m = re.exec(out);
        if (m) resolve(m);
      };
      listeners.push(check);
      check();
      void exited.then((code) => reject(new Error(`daemon exited (${String(code)}) before ${String(re)}:\n${out}`)));
    });
  return { child, exited, waitLog, log: () => out };
}

t.test('standalone: embedded broker, retained online status and health, offline on SIGTERM, exit 0', async (t) => {
  const dir = t.testdir({ state: {} });
  const d = startDaemon({
    JETSON_AGENT_STATE_DIR: path.join(dir, 'state'),
    JETSON_AGENT_DEVICE_ID: 'laptop-1',
    JETSON_AGENT_INFERENCE_PORT: '0',
    JETSON_AGENT_MQTT_EMBEDDED_PORT: '0',
    JETSON_AGENT_HEALTH_INTERVAL_SEC: '1',
  });
  const [, url] = await d.waitLog(/"url":"(mqtt:\/\/127\.0\.0\.1:\d+)","msg":"embedded MQTT broker listening/);
  await d.waitLog(/"msg":"agent ready"/);
  const ctl = await mqtt.connectAsync(url ?? '', { clientId: 'ctl' });
  const got = new Map<string, unknown[]>();
  let notify: () => void = () => undefined;
  ctl.on('message', (topic, payload) => {
    got.set(topic, [...(got.get(topic) ?? []), payload.length ? JSON.parse(payload.toString()) : null]);
    notify();
  });
  const until = (pred: () => boolean): Promise<void> =>
    new Promise((resolve) => {
      notify = () => pred() && resolve();
      notify();
    });
  await ctl.subscribeAsync('jetson/v1/devices/laptop-1/#', { qos: 1 });
  await until(() => got.has('jetson/v1/devices/laptop-1/health') && got.has('jetson/v1/devices/laptop-1/status'));
  const status = got.get('jetson/v1/devices/laptop-1/status')?.[0] as StatusPayload;
  t.equal(status.state, 'online');
  t.equal(status.board?.isJetson, false);
  const health = got.get('jetson/v1/devices/laptop-1/health')?.[0];
  t.ok(Value.Check(HealthSnapshotSchema, health), 'health snapshot matches its schema');
  const offline = until(() => (got.get('jetson/v1/devices/laptop-1/status') ?? []).some((s) => (s as StatusPayload).state === 'offline'));
  d.child.kill('SIGTERM');
  await offline;
  t.equal(await d.exited, 0, d.log());
  await ctl.endAsync(true);
});

t.test('standalone: a taken port fails with a coded error naming the key to change', async (t) => {
  const dir = t.testdir({ state: {} });
  const blocker = createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => blocker.close());
  const port = (blocker.address() as { port: number }).port;
  const d = startDaemon({ JETSON_AGENT_STATE_DIR: path.join(dir, 'state'), JETSON_AGENT_INFERENCE_PORT: '0', JETSON_AGENT_MQTT_EMBEDDED_PORT: String(port) });
  const code = await d.exited;
  t.equal(code, 1);
  t.match(d.log(), /MQTT_BROKER_PORT_IN_USE/);
  t.match(d.log(), /mqtt\.embedded\.port/);
});

t.test('a taken HTTP port fails with HTTP_PORT_IN_USE naming the key to change', async (t) => {
  const dir = t.testdir({ state: {} });
  const blocker = createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => blocker.close());
  const port = (blocker.address() as { port: number }).port;
  const d = startDaemon({ JETSON_AGENT_STATE_DIR: path.join(dir, 'state'), JETSON_AGENT_INFERENCE_PORT: String(port) });
  t.equal(await d.exited, 1);
  t.match(d.log(), new RegExp(`jetson-agent: HTTP_PORT_IN_USE: The inference endpoint cannot listen on 127\\.0\\.0\\.1:${port}: the address is in use`));
  t.match(d.log(), /inference\.port \(env JETSON_AGENT_INFERENCE_PORT; 0 = any free port\)/);
  t.notMatch(d.log(), /: INTERNAL:|This is a bug/);
});

t.test('run under systemd: READY=1, WATCHDOG=1 and STOPPING=1 reach the notify socket, SIGTERM stops cleanly with exit 0', async (t) => {
  const dir = t.testdir({ state: {} });
  const rx = await startNotifyReceiver();
  t.teardown(() => rx.close());
  const d = startDaemon(
    { NOTIFY_SOCKET: rx.socketPath, WATCHDOG_USEC: '2000000', JETSON_AGENT_INFERENCE_PORT: '0', JETSON_AGENT_MQTT_EMBEDDED_PORT: '0' },
    ['--state-dir', path.join(dir, 'state')],
  );
  t.teardown(() => {
    if (d.child.exitCode === null) d.child.kill('SIGKILL');
  });
  // Start-up takes what it takes on a loaded machine: wait for the daemon's own "ready" first.
  await d.waitLog(/"msg":"agent ready"/);
  await rx.waitFor((m) => m.startsWith('READY=1'));
  await rx.waitFor((m) => m === 'WATCHDOG=1', 3000);
  d.child.kill('SIGTERM');
  t.equal(await d.exited, 0, d.log());
  t.match(d.log(), /"msg":"stopped cleanly"/);
  const lines = d.log().trim().split('\n');
  t.ok(lines.every((l) => l.startsWith('{')), 'daemon logs are JSON lines');
  await rx.waitFor((m) => m === 'STOPPING=1');
});

t.test('an MQTT user name that is not the device id: the daemon does not connect and says why', async (t) => {
  const dir = t.testdir({ state: {} });
  // Nothing listens there: the agent must stop at its own check, before any connection attempt.
  const d = startDaemon({
    JETSON_AGENT_STATE_DIR: path.join(dir, 'state'),
    JETSON_AGENT_DEVICE_ID: 'jet-01',
    JETSON_AGENT_MQTT_URL: 'mqtt://127.0.0.1:9',
    JETSON_AGENT_MQTT_USERNAME: 'shared-fleet-user',
    JETSON_AGENT_MQTT_PASSWORD: 'pw',
    JETSON_AGENT_INFERENCE_PORT: '0',
    JETSON_AGENT_INFERENCE_INTRA_OP_THREADS: '1',
  });
  const code = await d.exited;
  t.not(code, 0);
  t.match(d.log(), /MQTT_IDENTITY_MISMATCH: mqtt\.username "shared-fleet-user" is not the device id "jet-01"/);
  t.notMatch(d.log(), /pw\b/, 'the password is not printed');
});
