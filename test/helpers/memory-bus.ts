import type { Bus, BusConnectOptions, BusFactory, BusHandler } from '../../agent/src/core/contracts/bus.js';
import { topicMatches } from '../../agent/src/mqtt/match.js';

/**
 * An in-memory broker for controller unit tests: retained store, retained delivery on a new
 * subscription (with the retain flag, MQTT 3.1.1 §3.3.1.3), live delivery without it, one copy
 * per client however many of its filters match, in publish order. `drop` decides which live
 * deliveries to a client are lost, as a broker's full per-client queue loses them. Not a
 * stand-in for mosquitto in integration tests (those use the real one).
 */
export class MemoryBroker {
  readonly retained = new Map<string, Buffer>();
  private readonly clients = new Map<string, { filters: Set<string>; handlers: BusHandler[] }>();
  drop: (clientId: string, topic: string, payload: Buffer) => boolean = () => false;
  /** Subscribe calls seen, per client (tests check what a refresh asked for). */
  readonly subscribes: { clientId: string; filters: string[] }[] = [];

  get connect(): BusFactory {
    return (o: BusConnectOptions) => Promise.resolve(this.client(o.clientId));
  }

  publish(topic: string, body: string | Buffer, retain: boolean): void {
    const payload = Buffer.from(body);
    if (retain) {
      if (payload.length === 0) this.retained.delete(topic);
      else this.retained.set(topic, payload);
    }
    for (const [id, c] of this.clients) {
      if (![...c.filters].some((f) => topicMatches(f, topic))) continue;
      if (this.drop(id, topic, payload)) continue;
      for (const h of c.handlers) h(topic, payload, false);
    }
  }

  private client(clientId: string): Bus {
    const c = { filters: new Set<string>(), handlers: [] as BusHandler[] };
    this.clients.set(clientId, c);
    return {
      subscribe: async (filters) => {
        this.subscribes.push({ clientId, filters: [...filters] });
        await Promise.resolve();
        for (const f of filters) {
          c.filters.add(f);
          for (const [topic, payload] of this.retained) if (topicMatches(f, topic)) for (const h of c.handlers) h(topic, payload, true);
        }
      },
      unsubscribe: async (filters) => {
        await Promise.resolve();
        for (const f of filters) c.filters.delete(f);
      },
      onMessage: (h) => void c.handlers.push(h),
      onReconnect: () => undefined,
      publish: async (topic, body, retain) => {
        await Promise.resolve();
        this.publish(topic, body, retain);
      },
      close: async () => {
        await Promise.resolve();
        this.clients.delete(clientId);
      },
    };
  }
}
