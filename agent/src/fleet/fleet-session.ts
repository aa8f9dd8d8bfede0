import { randomBytes } from 'node:crypto';
import type { Bus, BusFactory } from '../core/contracts/bus.js';
import { parseTopic, rolloutTopic, type ResponsePayload } from '../core/contracts/topics.js';
import { FleetView } from './fleet-view.js';
import { parseRolloutRecord, type RolloutRecord } from './rollout-record.js';

/**
 * One controller connection: the fleet view from retained device messages plus retained
 * rollout records. `sync()` waits until the retained messages of the subscriptions have
 * arrived: it publishes a marker on a topic subscribed last and waits for it to come back
 * (the broker delivers one client's messages in order; MQTT has no "end of retained" signal).
 *
 * Everything the session READS is subscribed at QoS 0. The session is clean (fleet-bus.ts),
 * so QoS 1 would buy no redelivery across a reconnect; what it does cost is the broker's
 * per-client queue: a QoS 1 subscriber gets `max_inflight_messages` (mosquitto: 20) unacked
 * messages at a time and the rest wait in a queue of `max_queued_messages` (default 1000),
 * beyond which the broker DROPS them. 10,000 devices' retained status alone overflowed it: a
 * controller planned a rollout over the 20 devices whose status survived
 * (docs/fleet-scale.md). At QoS 0 the broker writes to the socket as fast as the controller
 * reads (mosquitto `db__ready_for_flight`: QoS 0 is "inflight or dropped", never queued).
 * Drops remain possible on other brokers or a stalled reader, so rollouts also detect gaps in
 * the devices' report `seq` and re-read retained reports (`refresh`).
 */
const SYNC_RESEND_MS = 2000;
/**
 * Topic filters per SUBSCRIBE of a refresh: AWS IoT Core takes at most 8 per packet (its
 * message broker quotas, https://docs.aws.amazon.com/general/latest/gr/iot-core.html), and a
 * few subscriptions at a time also stay under its 50 per connection.
 */
const REFRESH_BATCH = 8;

export class FleetSession {
  readonly view: FleetView;
  readonly rollouts = new Map<string, RolloutRecord>();
  readonly clientId: string;
  /** Responses to this session's requests (after `watchResponses`), by transaction. */
  readonly responses = new Map<string, { readonly deviceId: string; readonly response: ResponsePayload }>();
  private listeners: (() => void)[] = [];
  private syncWaiters = new Map<string, () => void>();
  /** Messages received, by kind (the benchmark counts them). */
  received = 0;
  /** Clock (session `now`) of the last message received. */
  lastMessageAt = 0;

  private constructor(
    readonly bus: Bus,
    readonly prefix: string,
    clientId: string,
    private readonly now: () => number,
  ) {
    this.view = new FleetView(prefix);
    this.clientId = clientId;
    bus.onMessage((topic, payload, retained) => {
      this.received++;
      this.lastMessageAt = this.now();
      if (topic.startsWith(`${prefix}/fleet/sync/`)) {
        const token = payload.toString('utf8');
        this.syncWaiters.get(token)?.();
        this.syncWaiters.delete(token);
        return;
      }
      if (topic.startsWith(`${prefix}/rollouts/`)) {
        const rec = parseRolloutRecord(payload);
        const id = topic.slice(prefix.length + '/rollouts/'.length);
        if (rec) this.rollouts.set(id, rec);
        else this.rollouts.delete(id);
      } else if (!this.takeResponse(topic, payload)) this.view.handle(topic, payload, this.now(), retained);
      for (const l of this.listeners) l();
    });
  }

  static async open(connect: BusFactory, prefix: string, opts: { devices: boolean; groups?: boolean; rollout?: string; now?: () => number }): Promise<FleetSession> {
    const clientId = `jetson-fleet-${randomBytes(6).toString('hex')}`;
    const bus = await connect({ clientId });
    const s = new FleetSession(bus, prefix, clientId, opts.now ?? Date.now);
    await bus.subscribe([`${prefix}/fleet/sync/${clientId}`], { qos: 0 });
    // One kind at a time, each synced before the next: the broker sends a subscription's retained
    // messages in one burst, and a burst per kind (one per device) is the smallest there is.
    const kinds: string[] = [];
    if (opts.devices) for (const k of ['status', 'health', 'deployment', 'desired']) kinds.push(`${prefix}/devices/+/${k}`);
    if (opts.groups) kinds.push(`${prefix}/groups/+/desired`);
    if (opts.rollout !== undefined) kinds.push(opts.rollout === '+' ? `${prefix}/rollouts/+` : rolloutTopic(prefix, opts.rollout));
    for (const filter of kinds) {
      await bus.subscribe([filter], { qos: 0 });
      await s.sync();
    }
    return s;
  }

  private takeResponse(topic: string, payload: Buffer): boolean {
    const p = parseTopic(this.prefix, topic);
    if (p?.kind !== 'response') return false;
    try {
      const r = JSON.parse(payload.toString('utf8')) as ResponsePayload;
      if (typeof r.transaction === 'string') this.responses.set(r.transaction, { deviceId: p.deviceId, response: r });
    } catch {
      // not ours to judge: another client's malformed response
    }
    return true;
  }

  /**
   * Receive every device's responses to `op` from now on (before sending requests: responses
   * are not retained, and a fast device answers before a late subscription exists).
   */
  async watchResponses(op: string): Promise<void> {
    await this.bus.subscribe([`${this.prefix}/devices/+/response/${op}`], { qos: 0 });
  }

  /** Resolves when `done()` holds (checked on every message) or after `ms`, whichever is first. */
  async waitUntil(done: () => boolean, ms: number, signal?: AbortSignal): Promise<void> {
    const end = this.now() + ms;
    while (!done() && !signal?.aborted) {
      const left = end - this.now();
      if (left <= 0) return;
      await this.nextChange(left, signal);
    }
  }

  /**
   * Resolves once every message the broker sent before the marker has been handled. The marker
   * is QoS 0 like the rest, so it is sent again every 2 s until one comes back.
   */
  async sync(): Promise<void> {
    const token = randomBytes(8).toString('hex');
    let back = false;
    const got = new Promise<void>((resolve) =>
      this.syncWaiters.set(token, () => {
        back = true;
        resolve();
      }),
    );
    while (!back) {
      await this.bus.publish(`${this.prefix}/fleet/sync/${this.clientId}`, token, false);
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([got, new Promise<void>((r) => (timer = setTimeout(r, SYNC_RESEND_MS)))]);
      clearTimeout(timer);
    }
  }

  /**
   * Read the retained `kind` messages of these devices again (lost deliveries, see the class
   * comment): a new subscription to a topic gets its retained message (MQTT 3.1.1 §3.3.1.3),
   * then the specific filters are dropped again; the wildcard subscription stays.
   */
  async refresh(ids: readonly string[], kind: 'deployment' | 'status'): Promise<void> {
    for (let i = 0; i < ids.length; i += REFRESH_BATCH) {
      const filters = ids.slice(i, i + REFRESH_BATCH).map((id) => `${this.prefix}/devices/${id}/${kind}`);
      await this.bus.subscribe(filters, { qos: 0 });
      await this.sync();
      await this.bus.unsubscribe(filters);
    }
  }


  /** Resolves at the next message or after `ms`, whichever is first (`ignoreMessages`: after `ms` or an abort). */
  nextChange(ms: number, signal?: AbortSignal, opts: { readonly ignoreMessages?: boolean } = {}): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.listeners = this.listeners.filter((l) => l !== done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      if (!opts.ignoreMessages) this.listeners.push(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  async close(): Promise<void> {
    await this.bus.close();
  }
}
