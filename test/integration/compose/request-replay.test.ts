import t from 'tap';
import path from 'node:path';
import { startAgent, type AgentProcess } from '../../helpers/agent-process.js';
import { PREFIX } from '../../helpers/mosquitto.js';
import { DEVICE, opsRig, writeAgentConfig } from '../../helpers/request-rig.js';
import { requestBody } from '../../../agent/src/fleet/request.js';
import { keyIdOf } from '../../../agent/src/fleet/key-id.js';
import type { ResponsePayload } from '../../../agent/src/core/contracts/topics.js';

/**
 * The replay attacks of issue #14 against a real agent process and a real mosquitto: an
 * attacker who can publish on the device's request topics (any account with write access there)
 * captured one signed `get-config` request, exactly as `jetson-fleet request` builds it
 * (fleet/request.ts requestBody), and publishes the same bytes again: on
 * `request/restart-inference`, on `request/get-config`, and after the agent was SIGKILLed and
 * started again. Nothing but the first request may run.
 */
t.test('a captured signed request runs once: not on another op, not again, not after a restart', async (t) => {
  const dir = t.testdir({ state: {} });
  const holder: { agent?: AgentProcess } = {};
  const rig = await opsRig(t, () => holder.agent?.log() ?? '');
  const config = path.join(dir, 'config.yaml');
  // The key id jetson-fleet derives from the key (fleet/key-id.ts), as `keys generate` prints it.
  const publicKey = rig.fleet.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  writeAgentConfig(config, rig, { rollout: { fleetPublicKeys: [{ keyId: keyIdOf(rig.fleet.publicKey), publicKey }] } });
  const start = async (): Promise<AgentProcess> => {
    const online = rig.watch.next((m) => m.topic === `${PREFIX}/devices/${DEVICE}/status` && m.json<{ state: string }>().state === 'online');
    const a = startAgent(['--config', config, '--state-dir', path.join(dir, 'state')]);
    holder.agent = a;
    t.teardown(() => a.kill());
    await a.waitLog(/"msg":"model activated"/);
    await online;
    return a;
  };
  let agent = await start();
  const activations = (): number => agent.log().split('"msg":"model activated"').length - 1;

  const transaction = 'get-config-captured';
  const captured = requestBody({ op: 'get-config', deviceId: DEVICE, transaction, params: {}, now: Date.now(), timeoutMs: 30_000, key: rig.fleet.privateKey });
  const publishOn = async (op: string): Promise<ResponsePayload> => {
    const reply = rig.watch.next((m) => m.topic === `${PREFIX}/devices/${DEVICE}/response/${op}` && m.json<ResponsePayload>().transaction === transaction);
    await rig.watch.client.publishAsync(`${PREFIX}/devices/${DEVICE}/request/${op}`, captured, { qos: 1 });
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        reply.then((m) => m.json<ResponsePayload>()),
        new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no ${op} response; agent log tail:\n${agent.log().slice(-3000)}`)), 60_000))),
      ]);
    } finally {
      clearTimeout(timer);
    }
  };

  const first = await publishOn('get-config');
  t.equal(first.status, 'ok', 'the genuine request runs');
  t.match(first.data, { deviceId: DEVICE });

  const misdirected = await publishOn('restart-inference');
  t.match(misdirected, { status: 'error', error: { code: 'REQUEST_MISDIRECTED' } }, 'republished on request/restart-inference: refused');
  t.equal(activations(), 1, 'no engine restart happened');

  t.match(await publishOn('get-config'), { status: 'error', error: { code: 'REQUEST_REPLAYED' } }, 'the same envelope again: refused');

  agent.kill();
  await agent.exited;
  agent = await start();
  t.match(await publishOn('get-config'), { status: 'error', error: { code: 'REQUEST_REPLAYED' } }, 'after SIGKILL and a restart: still refused');
  t.match(await publishOn('restart-inference'), { status: 'error', error: { code: 'REQUEST_MISDIRECTED' } });
  t.equal(activations(), 1, 'the restarted agent activated its model once and was never restarted by the replay');
});
