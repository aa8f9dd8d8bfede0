import type { Logger } from '../core/log.js';
import { deviceTopics, groupDesiredTopic, parseTopic, TOPIC_PAYLOAD_VERSION } from '../core/contracts/topics.js';
import type { DeviceMqtt } from '../mqtt/client.js';
import type { RolloutExecutor } from '../rollout/executor.js';
import { handleRequest, type RequestHandlers } from '../rollout/requests.js';
import type { KeyRing } from '../core/envelope.js';
import type { ReplayGuard } from '../rollout/request-replay.js';

/**
 * Composition-root glue between the MQTT client (mqtt/) and the rollout executor (rollout/):
 * features never import each other (docs/reference/design-rules.md "Layout and imports"), so the binding lives here.
 */
export interface RolloutWiring {
  readonly client: DeviceMqtt;
  readonly executor: Pick<RolloutExecutor, 'handleDesired' | 'republish'>;
  readonly prefix: string;
  readonly deviceId: string;
  readonly groups: readonly string[];
  readonly keys: KeyRing;
  readonly handlers: RequestHandlers;
  /** Accepted signed requests, kept until they expire (rollout/request-replay.ts). */
  readonly replay: ReplayGuard;
  readonly requestMaxTtlMs: number;
  readonly log: Logger;
  readonly now: () => number;
}

/** Publishes reports and events through the client; call before the executor starts. */
export function reportSink(client: DeviceMqtt, prefix: string, deviceId: string, log: Logger) {
  const t = deviceTopics(prefix, deviceId);
  return {
    publish: (report: Parameters<RolloutExecutorPublish>[0]) => client.publish(t.deployment, report),
    event: (type: string, message: string, data?: Record<string, unknown>) => {
      client
        .publish(t.events, { v: TOPIC_PAYLOAD_VERSION, ts: new Date().toISOString(), type, message, ...(data ? { data } : {}) })
        .catch((err: unknown) => log.debug({ err: String(err) }, 'event not sent'));
    },
  };
}
type RolloutExecutorPublish = ConstructorParameters<typeof RolloutExecutor>[0]['publish'];

/** Subscribe desired (device + groups) and requests; re-send the last report after every reconnect. */
export async function wireRollout(w: RolloutWiring): Promise<void> {
  const t = deviceTopics(w.prefix, w.deviceId);
  w.client.onConnected(() => {
    w.executor.republish().catch((err: unknown) => w.log.warn({ err: String(err) }, 'could not re-send the deployment report'));
  });
  await w.client.subscribe(t.desired.topic, (_topic, payload) => void w.executor.handleDesired(payload, 'device'));
  for (const g of w.groups) {
    await w.client.subscribe(groupDesiredTopic(w.prefix, g).topic, (_topic, payload) => void w.executor.handleDesired(payload, 'group'));
  }
  await w.client.subscribe(t.requestFilter, (topic, payload, packet) => {
    const parsed = parseTopic(w.prefix, topic);
    if (parsed?.kind !== 'request') return;
    // Retained requests are junk from a misbehaving publisher: never execute them (docs/reference/mqtt-broker.md "mqtt.js options", rh: 2).
    if (packet.retain) {
      w.log.warn({ topic }, 'ignoring a retained request');
      return;
    }
    void handleRequest(parsed.op, payload, { deviceId: w.deviceId, keys: w.keys, now: w.now(), handlers: w.handlers, replay: w.replay, maxTtlMs: w.requestMaxTtlMs }).then((res) =>
      w.client.publish(t.response(parsed.op), res).catch((err: unknown) => w.log.warn({ err: String(err), op: parsed.op }, 'response not sent')),
    );
  });
}
