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
 */
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
      } else if (!this.takeResponse(topic, payload)) this.view.handle(topic, payload, this.now());
      for (const l of this.listeners) l();
    });
  }

  static async open(connect: BusFactory, prefix: string, opts: { devices: boolean; groups?: boolean; rollout?: string; now?: () => number }): Promise<FleetSession> {
    const clientId = `jetson-fleet-${randomBytes(6).toString('hex')}`;
    const bus = await connect({ clientId });
    const s = new FleetSession(bus, prefix, clientId, opts.now ?? Date.now);
    const filters: string[] = [];
    if (opts.devices) for (const k of ['status', 'health', 'deployment', 'desired']) filters.push(`${prefix}/devices/+/${k}`);
    if (opts.groups) filters.push(`${prefix}/groups/+/desired`);
    if (opts.rollout !== undefined) filters.push(opts.rollout === '+' ? `${prefix}/rollouts/+` : rolloutTopic(prefix, opts.rollout));
    await bus.subscribe(filters);
    await bus.subscribe([`${prefix}/fleet/sync/${clientId}`]);
    await s.sync();
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
    await this.bus.subscribe([`${this.prefix}/devices/+/response/${op}`]);
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
