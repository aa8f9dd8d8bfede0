import { randomBytes } from 'node:crypto';
import type { Bus, BusFactory } from '../core/contracts/bus.js';
import { rolloutTopic } from '../core/contracts/topics.js';
import { FleetView } from './fleet-view.js';
import { parseRolloutRecord, type RolloutRecord } from './rollout-record.js';

/**
 * One controller connection: the fleet view from retained device messages plus retained
 * rollout records. `sync()` waits until the retained messages of the subscriptions have
 * arrived: it publishes a marker on a topic subscribed last and waits for it to come back
 * (the broker delivers one client's messages in order; MQTT has no "end of retained" signal).
 */
export class FleetSession {
  readonly view: FleetView;
  readonly rollouts = new Map<string, RolloutRecord>();
  readonly clientId: string;
  private listeners: (() => void)[] = [];
  private syncWaiters = new Map<string, () => void>();
  /** Messages received, by kind (the benchmark counts them). */
  received = 0;

  private constructor(
    readonly bus: Bus,
    readonly prefix: string,
    clientId: string,
    private readonly now: () => number,
  ) {
    this.view = new FleetView(prefix);
    this.clientId = clientId;
    bus.onMessage((topic, payload) => {
      this.received++;
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
      } else this.view.handle(topic, payload, this.now());
      for (const l of this.listeners) l();
    });
  }

  static async open(connect: BusFactory, prefix: string, opts: { devices: boolean; rollout?: string; now?: () => number }): Promise<FleetSession> {
    const clientId = `jetson-fleet-${randomBytes(6).toString('hex')}`;
    const bus = await connect({ clientId });
    const s = new FleetSession(bus, prefix, clientId, opts.now ?? Date.now);
    const filters: string[] = [];
    if (opts.devices) for (const k of ['status', 'health', 'deployment', 'desired']) filters.push(`${prefix}/devices/+/${k}`);
    if (opts.rollout !== undefined) filters.push(opts.rollout === '+' ? `${prefix}/rollouts/+` : rolloutTopic(prefix, opts.rollout));
    await bus.subscribe(filters);
    await bus.subscribe([`${prefix}/fleet/sync/${clientId}`]);
    await s.sync();
    return s;
  }

  async sync(): Promise<void> {
    const token = randomBytes(8).toString('hex');
    const got = new Promise<void>((resolve) => this.syncWaiters.set(token, resolve));
    await this.bus.publish(`${this.prefix}/fleet/sync/${this.clientId}`, token, false);
    await got;
  }

  /** Resolves at the next message or after `ms`, whichever is first. */
  nextChange(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.listeners = this.listeners.filter((l) => l !== done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      this.listeners.push(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  async close(): Promise<void> {
    await this.bus.close();
  }
}
