import mqtt, { type MqttClient } from 'mqtt';
import { CONTROLLER } from './mosquitto.js';

export interface Seen {
  readonly topic: string;
  readonly body: string;
  readonly retain: boolean;
  json<T = unknown>(): T;
}

/**
 * A fleet-controller-side MQTT client for tests: records every message on the filters and
 * lets a test wait for one matching a predicate (no sleeps: tests wait for events).
 */
export class Watcher {
  readonly seen: Seen[] = [];
  private waiters: { pred: (m: Seen) => boolean; resolve: (m: Seen) => void }[] = [];

  private constructor(readonly client: MqttClient) {
    client.on('message', (topic, payload, packet) => {
      const body = payload.toString();
      const m: Seen = { topic, body, retain: packet.retain, json: <T>() => JSON.parse(body) as T };
      this.seen.push(m);
      this.waiters = this.waiters.filter((w) => {
        if (!w.pred(m)) return true;
        w.resolve(m);
        return false;
      });
    });
  }

  static async connect(url: string, filters: string[], opts: mqtt.IClientOptions = {}): Promise<Watcher> {
    const client = await mqtt.connectAsync(url, {
      username: CONTROLLER.username,
      password: CONTROLLER.password,
      reconnectPeriod: 100,
      clean: false, // persistent session: QoS 1 messages published while the watcher reconnects are queued for it
      clientId: `watch-${Math.random().toString(16).slice(2)}`,
      ...opts,
    });
    const w = new Watcher(client);
    if (filters.length) await client.subscribeAsync(filters, { qos: 1 });
    return w;
  }

  /** First message already seen or arriving that matches. */
  waitFor(pred: (m: Seen) => boolean): Promise<Seen> {
    const have = this.seen.find(pred);
    if (have) return Promise.resolve(have);
    return new Promise((resolve) => this.waiters.push({ pred, resolve }));
  }

  /** Like waitFor but only considers messages arriving after this call. */
  next(pred: (m: Seen) => boolean): Promise<Seen> {
    return new Promise((resolve) => this.waiters.push({ pred, resolve }));
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }
}
