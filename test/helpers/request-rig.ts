import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { stringify } from 'yaml';
import { Mosquitto, PREFIX } from './mosquitto.js';
import { Watcher } from './mqtt-watch.js';
import { signEnvelope } from '../../agent/src/core/envelope.js';
import type { ResponsePayload } from '../../agent/src/core/contracts/topics.js';

/**
 * A real mosquitto, a controller-side watcher and a fleet signing key for tests of the MQTT
 * request ops against a real agent process (`startAgent`): `request()` publishes a signed
 * request the way `jetson-fleet request` does and waits for the response with its transaction.
 */
export const DEVICE = 'jet-ops';
const PASSWORD = 'device-secret';

export interface OpsRig {
  readonly broker: Mosquitto;
  readonly watch: Watcher;
  readonly fleet: { privateKey: KeyObject; publicKey: KeyObject };
  /** Publish a signed request; resolves with the response that echoes its transaction. */
  request(op: string, params?: Record<string, unknown>, timeoutMs?: number): Promise<ResponsePayload>;
}

export async function opsRig(tt: { teardown(fn: () => unknown): void }, agentLog: () => string): Promise<OpsRig> {
  const broker = await new Mosquitto({ users: { [DEVICE]: PASSWORD } }).start();
  tt.teardown(() => broker.close());
  const watch = await Watcher.connect(broker.controllerUrl, [`${PREFIX}/devices/${DEVICE}/#`]);
  tt.teardown(() => watch.close());
  const fleet = generateKeyPairSync('ed25519');
  let n = 0;
  const request = async (op: string, params?: Record<string, unknown>, timeoutMs = 120_000): Promise<ResponsePayload> => {
    const transaction = `tx-${op}-${++n}`;
    const payload = { v: 2, op, transaction, deviceId: DEVICE, expiresAt: new Date(Date.now() + 600_000).toISOString(), ...(params ? { params } : {}) };
    const reply = watch.next((m) => m.topic === `${PREFIX}/devices/${DEVICE}/response/${op}` && m.json<ResponsePayload>().transaction === transaction);
    await watch.client.publishAsync(`${PREFIX}/devices/${DEVICE}/request/${op}`, JSON.stringify(signEnvelope(JSON.stringify(payload), fleet.privateKey, 'fleet-1')), { qos: 1 });
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        reply.then((m) => m.json<ResponsePayload>()),
        new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no ${op} response within ${timeoutMs} ms; agent log tail:\n${agentLog().slice(-4000)}`)), timeoutMs))),
      ]);
    } finally {
      clearTimeout(timer);
    }
  };
  return { broker, watch, fleet, request };
}

export function writeAgentConfig(file: string, rig: OpsRig, extra: Record<string, unknown>): void {
  const { inference, ...rest } = extra as { inference?: Record<string, unknown> };
  writeFileSync(
    file,
    stringify({
      deviceId: DEVICE,
      mqtt: { url: rig.broker.url, username: DEVICE, password: PASSWORD },
      inference: { port: 0, intraOpThreads: 1, ...inference },
      rollout: { fleetPublicKeys: [{ keyId: 'fleet-1', publicKey: rig.fleet.publicKey.export({ type: 'spki', format: 'pem' }).toString() }] },
      ...rest,
    }),
  );
}

