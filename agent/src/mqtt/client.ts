import mqtt, { type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import { AgentError } from '../core/errors.js';
import { redactUrl } from '../core/redact.js';
import type { Logger } from '../core/log.js';
import type { Component } from '../core/lifecycle.js';
import {
  RETAINED,
  TOPIC_PAYLOAD_VERSION,
  type DeviceTopics,
  type StatusPayload,
  type Topic,
  type TopicKind,
  type TopicPayloads,
} from '../core/contracts/topics.js';
import { topicMatches } from './match.js';
import { disableMqttPacketNumberCache } from './packet-cache.js';

disableMqttPacketNumberCache();

/**
 * Device MQTT client (issue #6 §1) over mqtt.js 5 (docs/reference/mqtt-broker.md "mqtt.js options"):
 * - client id = device id, persistent session (`clean: false`; MQTT 5 adds a session expiry so
 *   the broker keeps it), QoS 1 for everything;
 * - last will `{state:"offline"}` retained on `{p}/devices/{id}/status`; a retained `online`
 *   status on EVERY connect (zigbee2mqtt#3625: availability published once and never re-sent)
 *   and `offline` before a graceful disconnect;
 * - reconnect with capped exponential backoff (mqtt.js re-reads `options.reconnectPeriod`
 *   each time it arms the reconnect timer);
 * - a bounded offline queue: while disconnected, publishes wait here (retained topics
 *   coalesce to the newest payload); when full the oldest is dropped with MQTT_NOT_CONNECTED;
 * - subscriptions are restored after a reconnect when the broker lost the session.
 */
export interface DeviceMqttOptions {
  readonly url: string;
  readonly clientId: string;
  readonly username?: string;
  readonly password?: string;
  readonly ca?: Buffer;
  readonly cert?: Buffer;
  readonly key?: Buffer;
  /** 4 = MQTT 3.1.1 (default, the embedded broker speaks only this), 5 = MQTT 5. */
  readonly protocolVersion: 4 | 5;
  readonly keepaliveSec: number;
  readonly reconnectMinMs?: number;
  readonly reconnectMaxMs: number;
  readonly offlineQueueMax: number;
  readonly connectTimeoutMs?: number;
  /** MQTT 5 session expiry; 3.1.1 brokers keep `clean: false` sessions per their own config. */
  readonly sessionExpirySec?: number;
  readonly topics: DeviceTopics;
  /** Body of the retained online status (agent version, board summary). */
  readonly online: () => Omit<StatusPayload, 'v' | 'state' | 'ts'>;
  readonly log: Logger;
}

export type MessageHandler = (topic: string, payload: Buffer, packet: IPublishPacket) => void;

interface Queued {
  readonly topic: string;
  readonly body: string;
  readonly retain: boolean;
  readonly qos: 0 | 1;
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
}

export class DeviceMqtt implements Component {
  readonly name = 'mqtt-client';
  private client: MqttClient | undefined;
  private readonly queue: Queued[] = [];
  private readonly subs = new Map<string, MessageHandler>();
  /** Filters the broker acknowledged in this process (a session from an earlier run may lack newer ones). */
  private readonly subscribed = new Set<string>();
  private readonly connectListeners: ((sessionPresent: boolean) => void)[] = [];
  private readonly waiters: (() => void)[] = [];
  private readonly minMs: number;
  private connects = 0;
  private lastError: string | undefined;
  private stopping = false;

  constructor(private readonly opts: DeviceMqttOptions) {
    this.minMs = Math.min(opts.reconnectMinMs ?? 1000, opts.reconnectMaxMs);
  }

  get connected(): boolean {
    return this.client?.connected === true;
  }

  /** How many times a CONNACK was received (1 after the first connect). */
  get connectCount(): number {
    return this.connects;
  }

  get queuedCount(): number {
    return this.queue.length;
  }

  async start(): Promise<void> {
    const o = this.opts;
    // Offline payloads carry the same facts as online (groups, board, version): a controller
    // resolving `--target group:NAME` must still find a device that is down, to make it pending.
    const will = JSON.stringify({ v: TOPIC_PAYLOAD_VERSION, state: 'offline', reason: 'will', ...o.online() } satisfies StatusPayload);
    const options: IClientOptions = {
      clientId: o.clientId,
      clean: false,
      protocolVersion: o.protocolVersion,
      keepalive: o.keepaliveSec,
      reconnectPeriod: this.minMs,
      connectTimeout: o.connectTimeoutMs ?? 30000,
      resubscribe: false, // we restore subscriptions ourselves, only when the session is gone
      queueQoSZero: false,
      will: { topic: o.topics.status.topic, payload: Buffer.from(will), qos: 1, retain: true },
      ...(o.username ? { username: o.username } : {}),
      ...(o.password ? { password: o.password } : {}),
      ...(o.ca ? { ca: o.ca } : {}),
      ...(o.cert ? { cert: o.cert } : {}),
      ...(o.key ? { key: o.key } : {}),
      ...(o.protocolVersion === 5 ? { properties: { sessionExpiryInterval: o.sessionExpirySec ?? 7 * 24 * 3600 } } : {}),
    };
    // Several URLs (comma-separated) = failover: mqtt.js tries `servers` in turn on each reconnect.
    const urls = o.url.split(',').map((u) => u.trim()).filter(Boolean);
    if (urls.length > 1) {
      options.servers = urls.map((u) => {
        const x = new URL(u);
        const protocol = x.protocol.replace(/:$/, '') as 'mqtt' | 'mqtts';
        return { host: x.hostname, port: Number(x.port || (protocol === 'mqtts' ? 8883 : 1883)), protocol };
      });
    }
    const client = mqtt.connect(urls[0] ?? o.url, options);
    this.client = client;
    client.on('connect', (connack) => void this.onConnect(connack.sessionPresent));
    client.on('reconnect', () => {
      // Capped exponential backoff: this value arms the timer after this attempt fails.
      client.options.reconnectPeriod = Math.min(o.reconnectMaxMs, Math.max(this.minMs, (client.options.reconnectPeriod ?? this.minMs) * 2));
      o.log.debug({ nextRetryMs: client.options.reconnectPeriod }, 'mqtt reconnecting');
    });
    client.on('close', () => {
      if (!this.stopping && this.connects > 0) o.log.warn({ url: redactUrl(o.url) }, 'mqtt connection closed');
    });
    client.on('error', (err) => {
      const msg = err.message;
      if (msg !== this.lastError) o.log.warn({ err: msg, url: redactUrl(o.url) }, `${mqttConnectError(o.url, err).toLine()}`);
      this.lastError = msg;
    });
    client.on('message', (topic, payload, packet) => this.dispatch(topic, payload, packet));
    await Promise.resolve();
  }

  /** Resolves at the next CONNACK (immediately when connected). */
  waitConnected(signal?: AbortSignal): Promise<void> {
    if (this.connected) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onAbort = (): void => reject(new AgentError('CANCELED', 'Stopped waiting for the MQTT connection.'));
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      });
    });
  }

  /** Called after each connect, once the online status is out and the queue flushed. */
  onConnected(listener: (sessionPresent: boolean) => void): void {
    this.connectListeners.push(listener);
  }

  private async onConnect(sessionPresent: boolean): Promise<void> {
    const client = this.client;
    if (!client) return;
    this.connects++;
    this.lastError = undefined;
    client.options.reconnectPeriod = this.minMs;
    this.opts.log.info({ url: redactUrl(this.opts.url), sessionPresent, connects: this.connects }, 'mqtt connected');
    // Online first, so a controller never sees our reports before our liveness (docs/reference/fleet-rollouts.md "Recommendations applied" #2).
    const online: StatusPayload = { v: TOPIC_PAYLOAD_VERSION, state: 'online', ts: new Date().toISOString(), ...this.opts.online() };
    const pending: Promise<unknown>[] = [this.send(this.opts.topics.status.topic, JSON.stringify(online), true, 1)];
    const missing = [...this.subs.keys()].filter((f) => !sessionPresent || !this.subscribed.has(f));
    if (missing.length > 0) {
      pending.push(client.subscribeAsync(missing, { qos: 1 }).then(() => missing.forEach((f) => this.subscribed.add(f))));
    }
    for (const q of this.queue.splice(0)) {
      pending.push(this.send(q.topic, q.body, q.retain, q.qos).then(q.resolve, q.reject));
    }
    const results = await Promise.allSettled(pending);
    for (const r of results) if (r.status === 'rejected') this.opts.log.warn({ err: String(r.reason) }, 'mqtt publish after connect failed');
    for (const w of this.waiters.splice(0)) w();
    for (const l of this.connectListeners) {
      try {
        l(sessionPresent);
      } catch (err) {
        this.opts.log.error({ err }, 'mqtt connect listener failed');
      }
    }
  }

  private send(topic: string, body: string, retain: boolean, qos: 0 | 1): Promise<void> {
    const client = this.client;
    if (!client) return Promise.reject(new AgentError('MQTT_NOT_CONNECTED', 'The MQTT client is not started.'));
    return client.publishAsync(topic, body, { qos, retain }).then(() => undefined);
  }

  /** Typed publish: payload type and retained flag come from the topic map. */
  publish<K extends TopicKind>(topic: Topic<K>, payload: TopicPayloads[K], qos: 0 | 1 = 1): Promise<void> {
    return this.publishRaw(topic.topic, JSON.stringify(payload), RETAINED[topic.kind], qos);
  }

  /** Untyped publish (responses to computed topics, tests). Resolves on PUBACK for QoS 1. */
  publishRaw(topic: string, body: string, retain: boolean, qos: 0 | 1 = 1): Promise<void> {
    if (this.connected) return this.send(topic, body, retain, qos);
    return new Promise((resolve, reject) => {
      if (retain) {
        // A newer retained value supersedes a queued one on the same topic (health, status, reports).
        const i = this.queue.findIndex((q) => q.retain && q.topic === topic);
        if (i >= 0) {
          const [old] = this.queue.splice(i, 1);
          old?.resolve();
        }
      }
      this.queue.push({ topic, body, retain, qos, resolve, reject });
      while (this.queue.length > this.opts.offlineQueueMax) {
        const dropped = this.queue.shift();
        dropped?.reject(
          new AgentError('MQTT_NOT_CONNECTED', `Dropped a message for ${dropped.topic}: disconnected and the offline queue (${this.opts.offlineQueueMax}) is full.`, {
            hint: 'Check the broker connection; raise mqtt.offlineQueueMax to keep more while offline.',
          }),
        );
      }
    });
  }

  /** Subscribe (QoS 1) and route matching messages to `handler`; kept across reconnects. */
  async subscribe(filter: string, handler: MessageHandler): Promise<void> {
    this.subs.set(filter, handler);
    if (this.connected && this.client) {
      await this.client.subscribeAsync(filter, { qos: 1 });
      this.subscribed.add(filter);
    }
  }

  private dispatch(topic: string, payload: Buffer, packet: IPublishPacket): void {
    for (const [filter, handler] of this.subs) {
      if (!topicMatches(filter, topic)) continue;
      try {
        handler(topic, payload, packet);
      } catch (err) {
        this.opts.log.error({ err, topic }, 'mqtt message handler failed');
      }
    }
  }

  /** Graceful: retained `offline` (reason graceful), then DISCONNECT (no will is sent). */
  async stop(): Promise<void> {
    this.stopping = true;
    const client = this.client;
    if (!client) return;
    if (client.connected) {
      const offline: StatusPayload = { v: TOPIC_PAYLOAD_VERSION, state: 'offline', ts: new Date().toISOString(), reason: 'graceful', ...this.opts.online() };
      await withTimeout(this.send(this.opts.topics.status.topic, JSON.stringify(offline), true, 1), 3000).catch((err: unknown) => {
        this.opts.log.warn({ err: String(err) }, 'could not publish offline status before disconnect');
      });
      await withTimeout(client.endAsync(false), 3000).catch(() => client.endAsync(true));
    } else {
      await client.endAsync(true);
    }
    for (const q of this.queue.splice(0)) q.reject(new AgentError('CANCELED', `Not sent (agent stopping): ${q.topic}.`));
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<T>((_r, reject) => {
      timer = setTimeout(() => reject(new AgentError('TIMEOUT', `MQTT operation took longer than ${ms} ms.`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** mqtt://user:pass@host → mqtt://***@host (secrets never reach logs, docs/reference/design-rules.md "Cross-cutting rules"). */
export { redactUrl };

export function mqttConnectError(url: string, err: Error): AgentError {
  const code = (err as { code?: string | number }).code;
  const auth = code === 4 || code === 5 || code === 134 || code === 135;
  return new AgentError('MQTT_CONNECT_FAILED', `MQTT broker ${redactUrl(url)}: ${err.message}.`, {
    hint: auth
      ? 'The broker refused the credentials: check mqtt.username / mqtt.password (or the client certificate) and the broker ACL.'
      : 'Check mqtt.url, that the broker runs, and mqtt.caFile for mqtts://; the agent keeps retrying with backoff.',
    cause: err,
  });
}
